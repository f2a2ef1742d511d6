"""Pure, mergeable drift-detection algorithms (numpy and scipy only).

Nothing here knows about Kafka, databases or wall-clock time; ``monitor`` drives it.
"""

__version__ = "0.1.0"
