"""newsbeam: news ingestion on Apache Beam (options, assembly, CLI)."""
from pipeline.version import __version__
from transforms.beam_memory import arrow_cpp_pool

arrow_cpp_pool()  # before anything imports pyarrow: the CLI, and the workers it starts, inherit it

__all__ = ["__version__"]
