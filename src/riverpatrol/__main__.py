from riverpatrol.cli import app

app(prog_name="riverpatrol")
