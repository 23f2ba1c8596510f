from {{ cookiecutter.package_name }}.app import app

# Register every sub-app's agents, tables and views once, as a worker does on start-up.
app.discover()
