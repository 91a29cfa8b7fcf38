"""Where the job's sources are in this repository (the runtime tests run them in other venvs)."""
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE_ROOT = ROOT / "assets" / "glue" / "python"
SCRIPT = ROOT / "assets" / "glue" / "parquet_conversion_job.py"
