"""The authors' toolkit: conversation scripts, their runner, the fake Bot API, update factories."""
