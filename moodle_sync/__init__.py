"""moodle-sync: pull from Moodle, apply the programme's rules, push reminders and status back."""

__version__ = "0.1.0"
__all__ = ["__version__"]
