"""Domain errors, raised by domain code and mapped to HTTP statuses in one place
(service.app): not found -> 404, invalid -> 400, conflict -> 409, forbidden -> 403."""


class DomainError(Exception):
    pass


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} introuvable.")


class Invalid(DomainError):
    """Carries one French message per field, so forms can show each next to its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field} : {message}" for field, message in errors.items()))


class Conflict(DomainError):
    pass


class Forbidden(DomainError):
    def __init__(self, message: str = "Vous n'avez pas le droit de faire cela.") -> None:
        super().__init__(message)
