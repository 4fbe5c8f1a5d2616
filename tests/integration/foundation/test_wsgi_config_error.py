import os
import subprocess
import sys


def test_a_bad_setting_stops_the_web_process_with_one_line_naming_it(tmp_path):
    env = {**os.environ, "QBO_CLIENT_ID": "ABcd", "AUTOBILL_STATE_DIR": str(tmp_path)}
    for name in ("QBO_CLIENT_SECRET", "QBO_REDIRECT_URI", "DATABASE_URL"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-c", "import webapp.wsgi"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("autobill: QBO_") and "required" in done.stderr
