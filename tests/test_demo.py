"""The README's first command's main job, with one badge."""
import re

from host import demo, wire


def test_demo_issues_a_badge_in_micropython_and_its_url_verifies(capsys):
    assert demo.main(["--badges", "1", "--host", "v.example.cn"]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED status token, counter 1" in out
    url = re.search(r"https://v\.example\.cn/t/\S+", out).group(0)
    token, credential = wire.parse_tap_url(url)
    cred = wire.Credential.parse(credential)
    assert cred.iss == demo.AGENCY_ID and cred.sub == "W-00001"
    assert len(wire.tag_data("v.example.cn", token, credential)) <= 888
