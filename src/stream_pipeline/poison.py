"""The one exception every part of the package raises for a record that can never succeed.

Its own module so that :mod:`stream_pipeline.records`, :mod:`stream_pipeline.limits` and
:mod:`stream_pipeline.kpl` can all raise it without importing one another in a circle;
``stream_pipeline.records.PoisonRecord`` is the name processors use.
"""


class PoisonRecord(Exception):
    """A record that can never be processed; retrying it cannot help.

    The message is a short, payload-free reason, e.g. ``"data is not valid base64"``.
    """
