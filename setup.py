"""newsbeam: news ingestion on Apache Beam."""
import os
import re

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
VERSION = re.search(r'__version__ = "([^"]+)"', open(os.path.join(HERE, "pipeline", "version.py")).read()).group(1)

# Every package newsbeam imports is declared here directly, even when another
# dependency pulls it in: with pip 23.2, `pip install trafilatura` leaves out
# lxml_html_clean, and trafilatura.extract then fails with an ImportError.
INSTALL_REQUIRES = [
    "apache-beam>=2.60,<3",
    "trafilatura>=2.0,<3",
    # lxml[html_clean] as readability-lxml asks for it, and lxml_html_clean by name: with
    # pip 23.2 any other spelling beside readability-lxml fails to resolve or leaves it out
    "lxml[html_clean]>=5.3,<7",
    "lxml_html_clean>=0.4,<1",
    "readability-lxml>=0.9,<1",  # TextDocument (transforms/html_extract.py) mirrors 0.9's Document._parse
    "htmldate>=1.9,<2",
    "justext>=3.0,<4",
    "langdetect==1.0.9",
    "pyarrow>=15,<26",  # 15: a Parquet input's page checksums are checked (transforms/parquet_records.py)
    "xxhash>=3.4,<5",
    "warcio>=1.7,<2",
    # Content-Encoding br and zstd of WARC payloads (browser-based crawlers keep them as sent) and of
    # fetched pages (transforms/content_coding.py); brotli 1.2 is the first whose decompressor caps its output
    "brotli>=1.2,<2",
    "zstandard>=0.22,<1",
    "charset-normalizer>=3.3,<4",
    "webencodings>=0.5.1,<1",  # declared charset labels read as browsers read them (transforms/encoding._codec)
    "feedparser>=6.0.11,<7",
    "httpx>=0.27,<1",
    "httpcore>=1.0,<2",  # transforms/http_deadline.py: a deadline under httpx's connection pool
    "numpy>=1.24,<3",
    "rensa>=0.5,<0.6",  # MinHash signatures are stored in index/: a new hashing scheme would not match them
    "wordfreq>=3.1,<4",
    "anyascii>=0.3.2,<0.4",  # story anchors: names in Greek, or with Icelandic ð, meet their Latin spelling
    "msgpack>=1.0,<2",  # wordfreq's list files, read as bytes (transforms/wordlists._read_cbpack)
    "langcodes>=3.3,<4",  # a language code read: its wordfreq list (wordlists.list_language), a declared language (mtevidence)
    "publicsuffixlist>=1.0,<2",  # the site column: the public suffix list ships with it, no download
    "plotly>=6,<8",  # newsbeam report --html: plotly.js is embedded in the page, which works offline
]

setup(
    name="newsbeam",
    version=VERSION,
    description="News ingestion on Apache Beam: extraction, language, machine-translation and duplicate "
                "detection, story grouping, Parquet output",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=["pipeline", "transforms"],
    package_data={"transforms": ["models/*.npz"]},
    install_requires=INSTALL_REQUIRES,
    extras_require={
        "test": ["pytest>=7,<10", "pytest-xdist>=3.5,<4", "duckdb>=1.0,<3", "html-text>=0.6,<1",
                 "hypothesis>=6.100,<7", "tld>=0.13,<1"],  # benchmarks/metadata.py checks the site column against a second library
        # scripts/train_mt.py fits with scikit-learn; the pipeline scores with numpy alone
        "train": ["scikit-learn>=1.4,<2"],
    },
    entry_points={"console_scripts": ["newsbeam=pipeline.cli:console_main"]},
)
