"""What every tier of hostkit's own tests shares."""

from hypothesis import settings

# Property tests judge behaviour, not speed: on a loaded two-core CI machine an example can
# outlast hypothesis's default 200 ms deadline, which would fail a correct parser as flaky.
settings.register_profile("hostkit", deadline=None)
settings.load_profile("hostkit")
