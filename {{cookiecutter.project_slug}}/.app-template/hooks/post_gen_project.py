"""Say what adding the sub-app changed, and the one edit left to the team."""

APP = {{ cookiecutter.app_name | tojson }}
PACKAGE = {{ cookiecutter.package_name | tojson }}

print(f"Added the {APP} sub-app: {PACKAGE}/{APP}/ and tests/{APP}/.")
print("The worker discovers it on start-up (autodiscover=True); no other file was changed.")
print(
    "For the local stack, add its topics to the `topics` service of docker-compose.yml: "
    f"{APP}.events {APP}.enriched {APP}.batch-summaries"
)
