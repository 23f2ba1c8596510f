"""{{ cookiecutter.package_name }}: a Faust stream-processing service."""
