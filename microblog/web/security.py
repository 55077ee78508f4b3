"""Browser-facing protections: security headers (Flask-Talisman), and cookies that are HttpOnly,
SameSite=Lax, and Secure whenever the request came over HTTPS.

The Content-Security-Policy allows no inline script or style: every script is a file under
/static, so an injected `<script>` cannot run even if escaping ever failed.
"""

from __future__ import annotations

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from werkzeug.middleware.proxy_fix import ProxyFix

from microblog.doors import WEB, door_of
from microblog.extension_hooks import adopt
from microblog.extensions import talisman

STATIC_HEADERS = "microblog.static_security_headers"
REFERRER_POLICY = "strict-origin-when-cross-origin"
# As Talisman sends it over HTTPS (its default: a year, subdomains included).
HSTS = "max-age=31536000; includeSubDomains"

CONTENT_SECURITY_POLICY: dict[str, str | list[str]] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # Avatars are drawn by this server (microblog/accounts/avatars.py), unless AVATARS=gravatar.
    "img-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(avatars: str | None) -> dict[str, str | list[str]]:
    """The policy, letting pages load images from Gravatar only where it was chosen."""
    if avatars != "gravatar":
        return CONTENT_SECURITY_POLICY
    images = ["'self'", "data:", "https://www.gravatar.com"]
    return {**CONTENT_SECURITY_POLICY, "img-src": images}


def static_headers(avatars: str | None) -> dict[str, str]:
    """The headers Talisman gives the site's pages, made once, for answers whose policy never
    varies (the API's JSON and its docs page, /healthz, /metrics): a JSON answer that a browser
    was tricked into rendering must still be inert."""
    policy = "; ".join(
        f"{name} {sources if isinstance(sources, str) else ' '.join(sources)}"
        for name, sources in content_security_policy(avatars).items()
    )
    return {
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": policy,
        "Permissions-Policy": "browsing-topics=()",
        "Referrer-Policy": REFERRER_POLICY,
    }


def static_security_headers(response: Response) -> Response:
    """Pipeline step of the API and the operations endpoints."""
    headers: dict[str, str] = current_app.extensions[STATIC_HEADERS]
    response.headers.update(headers)
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = HSTS
    return response


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (behind a proxy too),
    and always HttpOnly and SameSite=Lax.

    Saving the session is the last step of every response, after all `after_request`
    functions (Flask-Login sets its remember-me cookie in one of those, with a Secure flag
    from static config): so this is where every cookie of an HTTPS response is made Secure.
    """

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """None (Flask's null session) outside the site: the API and the operations endpoints
        authenticate without cookies, so theirs are neither read nor written."""
        if door_of(request.path) != WEB:
            return None
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)
        cookies = response.headers.getlist("Set-Cookie")
        if request.is_secure and cookies:
            response.headers.remove("Set-Cookie")
            for cookie in cookies:
                response.headers.add(
                    "Set-Cookie", cookie if "; Secure" in cookie else f"{cookie}; Secure"
                )


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.session_interface = SessionInterface()
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies:
        # X-Forwarded-For/-Proto from that many proxies (nginx) are believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]

    app.extensions[STATIC_HEADERS] = static_headers(app.config.get("AVATARS"))
    adopt(app, "talisman", lambda: _init_talisman(app))


def _init_talisman(app: Flask) -> None:
    talisman.init_app(
        app,
        # HTTPS is the proxy's job; HSTS is still sent on requests that came over HTTPS.
        force_https=False,
        content_security_policy=content_security_policy(app.config.get("AVATARS")),
        frame_options="DENY",
        referrer_policy=REFERRER_POLICY,
        # Decided per request by SessionInterface (Secure when the request is HTTPS).
        session_cookie_secure=False,
    )
