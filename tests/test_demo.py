"""The README's first command's pieces, quickly (tests/test_first_run.py runs the whole of it):
the month's plan has the promised roles, the simulated month is the last complete one."""
import time

from demo import __main__ as demo, month as demo_month


def test_month_plan_has_green_revoked_cloned_and_missing_workers():
    for n in (4, 8, 12):
        roles = demo_month.plan_roles(n)
        events = demo_month.schedule(n, roles)
        taps = {i for _, what, i in events if what.startswith("checkin")}
        assert roles["green"] in taps and roles["revoked"] in taps
        assert not taps & set(roles["missing"])
        kinds = [what for _, what, i in events if i == roles["revoked"]]
        assert kinds.index("revoke") < len(kinds) - 1      # a tap after the revocation
        clone = [what for _, what, i in events if i == roles["cloned"]]
        assert clone.index("copy") < clone.index("checkin-clone")
        # the original checks in twice between the copy and the clone's check-in: the pair
        # that makes evidence in every upload order (demo/month.py schedule)
        between = clone[clone.index("copy") + 1:clone.index("checkin-clone")]
        assert between.count("checkin") >= 2
        assert all(1 <= day <= 28 for day, _, _ in events)


def test_the_simulated_month_is_the_previous_one():
    start, period = demo.previous_month(int(time.time()))
    assert start.day == 1 and start.timestamp() < time.time() - 86400
    assert period == f"{start.year:04d}-{start.month:02d}"
