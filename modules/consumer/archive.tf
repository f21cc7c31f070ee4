# The failure archive (on_failure_destination = "s3"): Lambda writes each batch it gives up on as
# one object, the invocation record with the records themselves, under
# aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/. Private, encrypted with KMS, TLS-only, versioned,
# expiring.

locals {
  bucket_prefix = substr("${trim(replace(lower(var.name), "/[^a-z0-9-]+/", "-"), "-")}-failures-", 0, 37)
}

resource "aws_s3_bucket" "on_failure" {
  count = local.archive ? 1 : 0

  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket of the user's; the objects are written by Lambda only and read by the operator command.
  #checkov:skip=CKV_AWS_144:Cross-region replication of failure records is the user's choice; the records are also in the stream until its retention.
  #checkov:skip=CKV2_AWS_62:Event notifications are optional: the mapping's OnFailureDestinationDeliveredEventCount alarm already pages.
  # Bucket names are global: the prefix is the pipeline's name and S3 makes it unique. S3 takes
  # lower-case letters, digits, dots and hyphens only, while the name may hold capitals and `_`.
  bucket_prefix = local.bucket_prefix
  # The archive holds the only copy of records the stream has dropped: destroying it with failures
  # inside is a choice (on_failure_archive_force_destroy), not a side effect of a rename.
  force_destroy = var.on_failure_archive_force_destroy
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = can(regex("^[a-z0-9][a-z0-9.-]*-failures-$", local.bucket_prefix))
      error_message = "The name ${var.name} gives the bucket prefix ${local.bucket_prefix}, which S3 refuses (it must start with a lower-case letter or a digit); give the pipeline a name that starts with a letter or a digit."
    }
  }
}

resource "aws_s3_bucket_ownership_controls" "on_failure" {
  count = local.archive ? 1 : 0

  bucket = aws_s3_bucket.on_failure[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "on_failure" {
  count = local.archive ? 1 : 0

  bucket                  = aws_s3_bucket.on_failure[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# SSE-KMS: the customer key given (on_failure_archive_kms_key_arn), or the AWS-managed `aws/s3`.
# The Bucket Key keeps the KMS requests (and their cost) to a few per object prefix and day.
resource "aws_s3_bucket_server_side_encryption_configuration" "on_failure" {
  count = local.archive ? 1 : 0

  bucket = aws_s3_bucket.on_failure[0].id
  rule {
    bucket_key_enabled = true
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.on_failure_archive_kms_key_arn
    }
  }
}

# Versioned: an archived failure is written once by Lambda, so an object with a second version was
# overwritten by someone else (the function's role may put objects there); `stream-pipeline redrive`
# refuses such an object, and the first version stays, to be read.
resource "aws_s3_bucket_versioning" "on_failure" {
  count = local.archive ? 1 : 0

  bucket = aws_s3_bucket.on_failure[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "on_failure" {
  count = local.archive ? 1 : 0

  bucket = aws_s3_bucket.on_failure[0].id
  rule {
    id     = "expire-archived-failures"
    status = "Enabled"
    filter {}
    expiration {
      days = var.on_failure_archive_days
    }
    # A version an overwrite, a delete, a move under redriven/ or the expiration above made
    # noncurrent is kept as long as a failure is, to investigate, then expires too.
    noncurrent_version_expiration {
      noncurrent_days = var.on_failure_archive_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.on_failure]
}

resource "aws_s3_bucket_policy" "on_failure" {
  count = local.archive ? 1 : 0

  bucket = aws_s3_bucket.on_failure[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TlsOnly"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [aws_s3_bucket.on_failure[0].arn, "${aws_s3_bucket.on_failure[0].arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.on_failure]
}
