"""Generated command lines: what ``newsbeam run`` hands Beam and what it checks itself."""
import argparse
import math

from hypothesis import given, settings
from hypothesis import strategies as st

_PATH = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12).filter(
    lambda p: not p.startswith("-"))
_ARG = st.one_of(
    st.tuples(st.just("input="), _PATH), st.tuples(st.just("input"), _PATH),
    st.tuples(st.just("feeds="), _PATH), st.tuples(st.just("feeds"), _PATH),
    st.tuples(st.just("output"), _PATH), st.tuples(st.just("min-words="), st.integers(0, 50).map(str)),
    st.tuples(st.just("runner"), st.sampled_from(["DirectRunner", "FnApiRunner"])))


def _argv(parts) -> list[str]:
    out = []
    for name, value in parts:
        out += [f"--{name}{value}"] if name.endswith("=") else [f"--{name}", value]
    return out


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(_ARG, max_size=12))
def test_the_paths_taken_apart_are_those_beams_own_parser_reads(parts):
    """``cli._lists_apart`` keeps ``--input`` and ``--feeds`` out of what Beam
    parses; on generated command lines (both forms of each option, paths of
    any letters, ``=`` among them, other options between) it takes exactly
    the values Beam's parser reads, in order, and the rest parses to the
    same other options."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from pipeline.cli import _lists_apart
    from pipeline.options import NewsbeamOptions

    argv = _argv(parts)
    inputs, feeds, rest = _lists_apart(argv)
    whole, apart = PipelineOptions(argv), PipelineOptions(rest)
    w, a = whole.view_as(NewsbeamOptions), apart.view_as(NewsbeamOptions)
    assert inputs == (w.input or []) and feeds == (w.feeds or []) and a.input is None and a.feeds is None
    assert (a.output, a.min_words) == (w.output, w.min_words)
    assert apart.view_as(StandardOptions).runner == whole.view_as(StandardOptions).runner


# each numeric option of `newsbeam run` and the values it takes
_RANGES = {
    "--fetch-timeout": lambda v: v > 0, "--fetch-retries": lambda v: v >= 0, "--max-retry-wait": lambda v: v >= 0,
    "--min-host-interval": lambda v: v >= 0, "--max-doc-bytes": lambda v: v > 0,
    "--max-decompressed-bytes": lambda v: v > 0, "--extract-timeout": lambda v: v > 0,
    "--progress-seconds": lambda v: v >= 0, "--extract-processes": lambda v: v > 0,
    "--extract-memory-mb": lambda v: v > 0, "--min-words": lambda v: v >= 0, "--rows-per-shard": lambda v: v > 0,
    "--lang-max-chars": lambda v: v > 0, "--mt-threshold": lambda v: 0 <= v <= 1,
    "--dup-threshold": lambda v: 0 < v <= 1, "--story-threshold": lambda v: 0 < v <= 1,
    "--union-find-max-edges": lambda v: v >= 0,
}
_INTEGERS = {"--fetch-retries", "--max-doc-bytes", "--max-decompressed-bytes", "--extract-processes",
             "--extract-memory-mb", "--min-words", "--rows-per-shard", "--lang-max-chars", "--union-find-max-edges"}


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(_RANGES)), st.one_of(st.integers(-10**6, 10**6), st.floats(-5, 5),
                                                   st.sampled_from([0, 1, -0.0, math.inf, math.nan, 1e-9]),
                                                   st.text(max_size=4)))
def test_a_generated_option_value_is_taken_only_inside_its_range(option, value):
    """Any value given to a numeric option: taken, as that number, exactly
    when it is of the option's kind and inside its range; else the command
    stops (argparse's exit 2) before anything runs."""
    import pipeline.cli as cli

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    run = cli._run_parser(sub)
    run.error = lambda message: (_ for _ in ()).throw(ValueError(message))  # refused, not exit, in a test
    text = str(value)
    try:
        number = int(text) if option in _INTEGERS else float(text)
        fits = _RANGES[option](number)
    except ValueError:
        number, fits = None, False
    try:
        got = getattr(run.parse_args([option, text]), option[2:].replace("-", "_"))
    except ValueError:
        assert not fits
    else:
        assert fits and (got == number or (isinstance(got, float) and math.isnan(got) and math.isnan(number)))
