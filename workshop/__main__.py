import sys

from workshop.cli import main
from workshop.terminal import silence_stdout

code = main()
try:
    sys.stdout.flush()  # a reader that went away (``plan | head``) is not an error of this command
except BrokenPipeError:
    silence_stdout()
sys.exit(code)
