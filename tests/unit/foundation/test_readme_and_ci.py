import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _commands(readme: str) -> list[str]:
    block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    return [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readme_opens_with_exactly_two_commands(readme):
    assert _commands(readme) == ["make run", "make test"]


def test_ci_runs_exactly_the_readmes_test_command(readme):
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines() if line.strip() and not line.startswith("#")]
    assert "export CI=true" in lines
    assert lines[-1] == _commands(readme)[1]


def test_the_production_web_process_serves_with_threads_as_bench_ingest_measures_it():
    # The front door's group commit stores the deliveries of a process's concurrent requests together;
    # sync workers would serve one request per process and write groups of one (docs/decisions.md).
    import shlex

    web = next(line.split(":", 1)[1] for line in (ROOT / "Procfile").read_text().splitlines()
               if line.startswith("web:"))
    argv = shlex.split(web)
    assert argv[0] == "gunicorn" and argv[-1] == "webapp.wsgi:app"
    assert argv[argv.index("--worker-class") + 1] == "gthread"
    assert argv[argv.index("--threads") + 1] == "${WEB_THREADS:-4}"
