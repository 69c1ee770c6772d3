"""Configuration is strict and friendly: defaults that run, one line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheets_ops.config import ConfigError, environment, load


def test_with_nothing_set_everything_is_local() -> None:
    cfg = load({})
    assert (cfg.tracker.kind, cfg.tracker.path) == ("xlsx", Path("tracker.xlsx"))
    assert (cfg.mailbox.kind, cfg.mailbox.path) == ("folder", Path("inbox"))
    assert (cfg.outbox.kind, cfg.outbox.path) == ("folder", Path("outbox"))
    assert cfg.state_dir == Path(".sheets_ops")


@pytest.mark.parametrize(
    ("env", "first_words"),
    [
        ({"TRACKER": "tracker.csv"}, "TRACKER: 'tracker.csv' is neither an .xlsx path"),
        ({"TRACKER": "https://example.com/sheet"}, "TRACKER: 'https://example.com/sheet' is not"),
        ({"MAILBOX": "pop3://mail.example"}, "MAILBOX: 'pop3://mail.example' has scheme 'pop3'"),
        ({"MAILBOX": "imap:///INBOX"}, "MAILBOX: 'imap:///INBOX' names no host"),
        ({"OUTBOX": "smtp://mail.example:99999"}, "OUTBOX: 'smtp://mail.example:99999' has a bad"),
        ({"MAIL_FROM": "service at agency"}, "MAIL_FROM: 'service at agency' is not an email"),
        ({"GOOGLE_APPLICATION_CREDENTIALS": "/no/such.json"}, "GOOGLE_APPLICATION_CREDENTIALS:"),
        ({"SMTP_PASSWORD": "x", "SMTP_PASSWORD_FILE": "/run/secret"}, "SMTP_PASSWORD: set"),
        ({"SMTP_PASSWORD_FILE": "/no/such/secret"}, "SMTP_PASSWORD_FILE: cannot read"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(env: dict[str, str], first_words: str) -> None:
    with pytest.raises(ConfigError) as e:
        load(env)
    assert str(e.value).startswith(first_words)
    assert "\n" not in str(e.value)


def test_a_file_where_a_folder_belongs_is_named(tmp_path: Path) -> None:
    (tmp_path / "inbox").write_text("")
    with pytest.raises(ConfigError, match=r"MAILBOX: .* is a file; MAILBOX wants a folder"):
        load({"MAILBOX": str(tmp_path / "inbox")})


def test_google_and_remote_mail_locations_are_recognised() -> None:
    key = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_xyz"
    cfg = load(
        {
            "TRACKER": f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0",
            "MAILBOX": "imaps://mail.agency.example/INBOX",
            "OUTBOX": "smtp://mail.agency.example:587",
        }
    )
    assert (cfg.tracker.kind, cfg.tracker.key) == ("google", key)
    assert load({"TRACKER": key}).tracker.kind == "google"
    assert (cfg.mailbox.kind, cfg.outbox.kind) == ("imap", "smtp")


def test_a_secret_comes_from_its_file_and_is_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("hunter2\n")
    cfg = load({"SMTP_PASSWORD_FILE": str(secret)})
    assert cfg.secrets["SMTP_PASSWORD"] == "hunter2"
    assert "hunter2" not in repr(cfg) and "hunter2" not in str(cfg)


def test_the_environment_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TRACKER=./from-file.xlsx\nMAILBOX=./mail-from-file\n")
    monkeypatch.setenv("TRACKER", "./from-env.xlsx")
    monkeypatch.delenv("MAILBOX", raising=False)
    values = environment(env_file)
    assert values["TRACKER"] == "./from-env.xlsx"
    assert values["MAILBOX"] == "./mail-from-file"


def test_env_example_lists_every_variable() -> None:
    from sheets_ops.config import KNOWN

    example = (Path(__file__).parent.parent / ".env.example").read_text()
    for name in KNOWN:
        assert f"\n{name}=" in example or f"\n# {name}=" in example, name
