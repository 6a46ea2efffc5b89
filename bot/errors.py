"""Akhbar's error hierarchy: library errors are translated into these at the boundary."""


class AkhbarError(Exception):
    """Base class of every error Akhbar raises on purpose."""


class ConfigError(AkhbarError):
    """The configuration file is missing, malformed or holds a bad value."""


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


class SourceHttpError(FetchError):
    """A source answered with an error status other than 404 and 410."""


class TooManyRedirects(FetchError):
    """A source redirected more times than allowed."""


class UnsupportedUrl(FetchError):
    """A source address, or a redirect, is not an http(s) URL."""
