"""The {{ cookiecutter.app_name }} sub-app, registered by the app's autodiscovery."""
