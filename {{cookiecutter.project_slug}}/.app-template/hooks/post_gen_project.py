"""Say what adding the sub-app changed, and what is left to the team."""

import json
import shlex
from pathlib import Path

APP = {{ cookiecutter.app_name | tojson }}
PACKAGE = {{ cookiecutter.package_name | tojson }}
FULL_EXAMPLE = json.loads({{ cookiecutter.full_example | tojson | tojson }})
TOPICS = ["events", "enriched", "batch-summaries"] if FULL_EXAMPLE else ["events"]

print(f"Added the {APP} sub-app: {PACKAGE}/{APP}/ and tests/{APP}/.")
print("The worker discovers it on start-up (autodiscover=True); no other file was changed.")
print(
    "For the local stack, add its topics to the `topics` service of docker-compose.yml: "
    + " ".join(f"{APP}.{topic}" for topic in TOPICS)
)
# A project that follows the template with cruft updates only the apps it has recorded.
cruft = Path(".cruft.json")
if cruft.is_file():
    recorded = json.loads(cruft.read_text(encoding="utf-8"))
    apps = f"{recorded['context']['cookiecutter']['apps']},{APP}"
    print(
        "Record it, so template updates reach it too (this also adds its topics to compose):\n"
        f"  cruft update --checkout {recorded['commit']} --skip-apply-ask --allow-untracked-files "
        f"--variables-to-update {shlex.quote(json.dumps({'apps': apps}))}"
    )
