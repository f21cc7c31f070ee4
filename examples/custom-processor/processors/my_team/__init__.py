"""A team's own record processor, shipped next to stream_pipeline in the Lambda package."""
