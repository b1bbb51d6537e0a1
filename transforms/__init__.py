"""newsbeam's transforms. Importing the package makes Beam's workers let go
of each stage's closed output buffer (``transforms.beam_memory``)."""
from transforms.beam_memory import release_output_streams

release_output_streams()
