"""Use cases. The only code that commits: each public function owns one transaction."""


class ServiceError(Exception):
    """A use case refused its input; the message is safe to show to the user."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass
