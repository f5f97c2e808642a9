"""Domain errors, defined once. The edges (CLI, HTTP) translate them into messages and status codes.

This module imports nothing from the package so every layer can use it.
"""


class JaxabotError(Exception):
    """Base class of every error meant for a user."""


class ModelError(JaxabotError):
    """The embedding model cannot be found, converted or loaded."""


class CorpusError(JaxabotError):
    """The corpus has no usable document."""


class IndexMissing(JaxabotError):
    """No index has been built yet."""


class IndexCorrupt(JaxabotError):
    """An index on disk is damaged (missing file, bad checksum, unreadable manifest)."""


class IndexMismatch(JaxabotError):
    """An index was built for another format, model or dimension."""


class BuildInProgress(JaxabotError):
    """Another build holds the index lock."""


class BuildError(JaxabotError):
    """A build could not be written (disk full, read-only folder, ...); the previous index is untouched."""


class InvalidQuestion(JaxabotError):
    """The question or the history is not acceptable input (empty, too long, malformed)."""


class DocumentNotFound(JaxabotError):
    """No document with that id in the loaded index."""


class FeedbackError(JaxabotError):
    """The feedback database cannot be opened or written (unreadable file, newer schema, disk full,
    read-only)."""


class FeedbackBusy(FeedbackError):
    """Another connection holds the feedback database's write lock; nothing was written."""


class FeedbackDamaged(FeedbackError):
    """The feedback database fails SQLite's integrity check; it is not written to."""


class FeedbackFull(FeedbackError):
    """The feedback database holds the configured maximum number of records; new ones are refused."""


class BuildCancelled(JaxabotError):
    """A build was cancelled on request before it published anything; the current index is untouched."""


class NothingToRollBack(JaxabotError):
    """No intact version was live before the current one; nothing was changed."""


class UploadRejected(JaxabotError):
    """A file offered for the corpus is refused (name, type by content, size); nothing was written."""


class UploadTooLarge(UploadRejected):
    """A file offered for the corpus is larger than JAXABOT_MAX_FILE_MB; nothing was written."""


class DocumentExists(JaxabotError):
    """A corpus file of that name already exists (replace it instead), or blocks a restore."""


class CorpusUnwritable(JaxabotError):
    """The corpus or data folder cannot be written (read-only, full disk); nothing was changed."""


class FittedFileError(JaxabotError):
    """A file of fitted parameters shipped with the code (bot/**/*.json) is missing, unreadable,
    of another format, or was fitted on other features than the code computes: refit it
    (fit/README.md)."""
