from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.errors import ConfigError
from tests.support.cli import run_akhbar

SHIPPED = Path(__file__).parent.parent / "config.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_is_valid_and_documents_the_defaults():
    config = load_config(SHIPPED, environ={})
    assert config.bot.default_language == "ar"
    assert config.bot.timezone == "Africa/Casablanca"
    assert config.telegram.api_base_url == "https://api.telegram.org/bot"
    assert config.token == ""
    assert all(s.url.startswith("https://") for s in config.sources)


def test_environment_overrides_token_and_base_url_and_the_token_stays_out_of_reprs(tmp_path):
    environ = {
        "TELEGRAM_BOT_TOKEN": "123:SECRET",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
    }
    config = load_config(write(tmp_path, ""), environ=environ)
    assert config.token == "123:SECRET"
    assert config.telegram.api_base_url == "http://127.0.0.1:9/bot"
    assert "SECRET" not in repr(config) and "SECRET" not in str(config)


def test_the_database_url_selects_postgresql_and_its_password_stays_out_of_reprs(tmp_path):
    url = "postgresql://akhbar:Pa55-word@db.internal:5432/akhbar"
    config = load_config(write(tmp_path, ""), environ={"AKHBAR_DATABASE_URL": url})
    assert config.storage.is_postgres
    assert config.storage.location == url
    assert "Pa55-word" not in repr(config) and "Pa55-word" not in str(config)
    sqlite = load_config(write(tmp_path, ""), environ={})
    assert not sqlite.storage.is_postgres
    assert sqlite.storage.location == str(tmp_path / "data" / "akhbar.sqlite3")


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[bot]\nlanguage = 'ar'\n", "[bot] language: unknown key"),
        ("[bot]\npage_size = 'ten'\n", "[bot] page_size"),
        ("[bot]\ntimezone = 'Mars/Olympus'\n", "[bot] timezone"),
        ("[storage]\npath = 3\n", "[storage] path"),
        ("[storage]\npath = 'file:x.db?mode=rwc'\n", "[storage] path: is a file path, not"),
        ("[storage]\nurl = 'mysql://u:pw@x'\n", "[storage] url: must start with postgresql://"),
        ("[storage]\nurl = 'postgresql://u:pw@db:port/x'\n", "[storage] url: is not a URL of"),
        ("[storage]\nurl = 'postgresql:///akhbar'\n", "[storage] url: names no host"),
        ("[[sources]]\nname = 'x'\nurl = 'ftp://x'\n", "url"),
        ("[[sources]]\nname = 'x'\nurl = 'https://x.test'\nkind = 'pdf'\n", "kind"),
        ("surprise = 1\n", "surprise: unknown key"),
        ("[delivery]\noverall_per_second = 1000\n", "needs paid_broadcast = true"),
        ("[bot\n", "not valid TOML"),
        # Strict types: nothing is coerced into what the key wants.
        ("[bot]\npage_size = true\n", "[bot] page_size: Input should be a valid integer"),
        ("[bot]\npage_size = '8'\n", "[bot] page_size: Input should be a valid integer"),
        ("[bot]\npage_size = 8.0\n", "[bot] page_size: Input should be a valid integer"),
        ("[bot]\nload_sample_news = 'yes'\n", "[bot] load_sample_news: Input should be a valid"),
        ("[bot]\nadmin_chat_id = '-100'\n", "[bot] admin_chat_id: Input should be a valid"),
        ("[delivery]\npaid_broadcast = 1\n", "[delivery] paid_broadcast: Input should be a"),
        ("[moderation]\noperator_ids = ['12345']\n", "[moderation] operator_ids[0]: Input"),
        ("[moderation]\noperator_ids = [true]\n", "[moderation] operator_ids[0]: Input"),
    ],
)
def test_bad_configuration_names_the_file_and_key(tmp_path, text, named):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert str(path) in str(raised.value)
    assert named in str(raised.value)


def test_whole_numbers_are_accepted_where_decimals_are_expected(tmp_path):
    config = load_config(write(tmp_path, "[ingestion]\ntimeout_seconds = 20\n"), environ={})
    assert config.ingestion.timeout_seconds == 20


def unreadable_config(tmp_path: Path, kind: str) -> Path:
    if kind == "folder":
        return tmp_path
    if kind == "latin-1":
        path = tmp_path / "latin1.toml"
        path.write_bytes("[bot]\ntimezone = 'été'\n".encode("latin-1"))
        return path
    return tmp_path / "missing.toml"


@pytest.mark.parametrize(
    ("kind", "problem"),
    [
        ("folder", "is a folder, not a configuration file"),
        ("latin-1", "not UTF-8 text (byte 19)"),
        ("missing", "file not found"),
    ],
)
async def test_an_unreadable_config_gives_one_line_and_exit_2(tmp_path, kind, problem):
    path = unreadable_config(tmp_path, kind)
    finished = await run_akhbar("--config", str(path), "stats")
    assert finished.returncode == 2
    assert finished.err.splitlines() == [f"akhbar: {path}: {problem}"]


def test_bad_configuration_stops_the_cli_with_exit_code_2(tmp_path, capsys):
    path = write(tmp_path, "[bot]\nfoo = 1\n")
    assert main(["--config", str(path), "stats"]) == 2
    assert "[bot] foo: unknown key" in capsys.readouterr().err


def test_run_without_token_exits_2_with_one_line_naming_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    path = write(tmp_path, "")
    assert main(["--config", str(path), "run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "TELEGRAM_BOT_TOKEN" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[digests]\ndefault_times = []\n",
            '[digests] default_times: needs at least one time, e.g. default_times = ["08:00"]',
        ),
        (
            "[digests]\ndefault_count = 10\nmax_count = 5\n",
            "[digests] max_count: 5 is below default_count (10): it must be at least that",
        ),
        (
            "[[sources]]\nname = 'hespress'\nurl = 'https://a.test/feed'\n"
            "[[sources]]\nname = 'hespress'\nurl = 'https://b.test/feed'\n",
            '[sources "hespress"] name: another source has this name;'
            " each [[sources]] needs its own",
        ),
        (
            "[[sources]]\nname = 'hespress'\nurl = 'https://a.test/feed'\ntopics = 'maroc'\n",
            '[sources "hespress"] topics: must be a list of strings, e.g. topics = ["maroc"]',
        ),
        (
            "[[sources]]\nname = 'hespress'\nurl = 'ftp://a.test/feed'\n",
            '[sources "hespress"] url: must be an http:// or https:// address',
        ),
        (
            "[bot]\ntimezone = 'Mars/Olympus'\n",
            "[bot] timezone: unknown time zone 'Mars/Olympus'",
        ),
    ],
)
def test_config_errors_name_the_key_in_the_words_of_a_toml_writer(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert str(raised.value) == f"{path}: {message}"


async def test_a_config_without_default_digest_times_stops_start_up_naming_the_key(tmp_path):
    path = write(tmp_path, "[digests]\ndefault_times = []\n")
    finished = await run_akhbar("--config", str(path), "run")
    assert finished.returncode == 2
    assert finished.err.splitlines() == [
        f"akhbar: {path}: [digests] default_times: needs at least one time,"
        ' e.g. default_times = ["08:00"]'
    ]
