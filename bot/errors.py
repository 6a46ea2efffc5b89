"""Akhbar's error hierarchy: library errors are translated into these at the boundary."""


class AkhbarError(Exception):
    """Base class of every error Akhbar raises on purpose."""


class ConfigError(AkhbarError):
    """The configuration file is missing, malformed or holds a bad value."""


class DatabaseUnavailable(AkhbarError):
    """The database file, or the folder it belongs in, is missing or cannot be opened."""


class FetchError(AkhbarError):
    """A source could not be downloaded."""


class FeedTooLarge(FetchError):
    """A source answered with more bytes than the configured cap."""


class FeedParseError(AkhbarError):
    """A source's content is not a feed or dump Akhbar can read."""


class ArticleNotFound(AkhbarError):
    """No stored article has the requested id."""


class QueryTooLong(AkhbarError):
    """A search query longer than the bot accepts."""


class NothingSearchable(AkhbarError):
    """A search query with no word left once normalised (only punctuation, say)."""


class FetchTimeout(FetchError):
    """A source did not answer within the configured timeout."""


class FeedNotFound(FetchError):
    """A source answered that nothing is at its address (404 or 410)."""


class SourceGone(FeedNotFound):
    """A source answered 410 Gone: it will not come back."""


class SourceHttpError(FetchError):
    """A source answered with an error status other than 404 and 410."""

    def __init__(self, message: str, *, status: int = 0, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class TooManyRedirects(FetchError):
    """A source redirected more times than allowed."""


class UnsupportedUrl(FetchError):
    """A source address, or a redirect, is not an http(s) URL."""


class PrivateAddress(UnsupportedUrl):
    """A source address, or a redirect, leads to a loopback, private or link-local address."""


class SourceExists(AkhbarError):
    """A source with this name or address is already known."""


class SourceNotFound(AkhbarError):
    """No source has this name."""


class BadOpml(AkhbarError):
    """An OPML file that cannot be read safely (too large, not XML, entities, DTD)."""


class BadSchedule(AkhbarError):
    """A /schedule or /digest request Akhbar cannot read; `problem` names what is wrong."""

    def __init__(self, problem: str, text: str) -> None:
        super().__init__(f"{problem}: {text}")
        self.problem = problem
        self.text = text


class UnknownTopic(AkhbarError):
    """A word names no topic of the stored articles or the configured sources."""

    def __init__(self, word: str, known: tuple[str, ...]) -> None:
        super().__init__(word)
        self.word = word
        self.known = known


class UnknownTimeZone(AkhbarError):
    """A time zone name zoneinfo does not know."""


class NotChatAdmin(AkhbarError):
    """The person is not an administrator of the chat they want to schedule for."""


class BotCannotPost(AkhbarError):
    """The bot is not allowed to post in the chat a schedule targets."""


class ScheduleNotFound(AkhbarError):
    """No schedule has the number the admin gave."""


class TooManySchedules(AkhbarError):
    """The chat already has as many schedules as the configuration allows."""


class UnknownChat(AkhbarError):
    """The bot has never seen a chat with this id."""


class NotSubscribed(AkhbarError):
    """The chat has no subscription, and the request needs one."""


class UnreadableImage(AkhbarError):
    """Bytes Pillow cannot decode as an image."""


class ImageTooLarge(UnreadableImage):
    """An image over the byte or pixel cap, refused before it is decoded."""


class ImageNotFound(AkhbarError):
    """No known image has the requested id."""


class NotModerator(AkhbarError):
    """The person is neither an operator nor a chat admin, and the action needs one."""


class OperatorsOnly(AkhbarError):
    """The action would reach beyond the admin's own chat: only the bot's operators may."""


class BadThreshold(AkhbarError):
    """A report threshold that is not a whole number between 1 and the allowed maximum."""


class ThresholdTooLow(BadThreshold):
    """A chat admin asked for a lower bar than the global one (only operators may)."""

    def __init__(self, floor: int) -> None:
        super().__init__(floor)
        self.floor = floor


class BackupError(AkhbarError):
    """A backup could not be made, verified or restored."""


class DatabaseBusy(AkhbarError):
    """A running bot holds the database (its lock file is taken)."""


class BadAutopost(AkhbarError):
    """An /autopost request with a pace or quiet hours that cannot be used."""

    def __init__(self, problem: str, text: str) -> None:
        super().__init__(f"{problem}: {text}")
        self.problem = problem
        self.text = text


class TooManyAutopostRules(AkhbarError):
    """The chat already has as many auto-posting rules as allowed."""


class AutopostRuleNotFound(AkhbarError):
    """No auto-posting rule has that number in the chat."""


class CopyRefused(AkhbarError):
    """`akhbar db copy` cannot copy: a bad source, a non-empty target, a value that won't fit."""
