"""newsbeam: news ingestion on Apache Beam (options, assembly, CLI)."""
from pipeline.version import __version__

__all__ = ["__version__"]
