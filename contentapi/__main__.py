from contentapi.cli import cli

cli()
