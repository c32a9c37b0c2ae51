"""The interactive front-ends: the Slack app (commands, buttons) and the Teams command inbox."""
