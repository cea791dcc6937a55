def issue_token(user: str) -> str:
    raise NotImplementedError
