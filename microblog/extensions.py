"""Unbound extension objects, bound to an application in `create_app`."""

from typing import cast

from flask import current_app
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_cors import CORS
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf import CSRFProtect
from werkzeug.local import LocalProxy

from microblog.db import Base, ReadAwareSession

db = SQLAlchemy(model_class=Base, session_options={"class_": ReadAwareSession})
migrate = Migrate(render_as_batch=True, compare_type=True)
mail = Mail()
babel = Babel()
bootstrap = Bootstrap5()
csrf = CSRFProtect()
login_manager = LoginManager()
talisman = Talisman()
# Bound only when CORS_ORIGINS names sites (see microblog.api.cors).
cors = CORS()

# Where an application keeps its Limiter (built by microblog.api.ratelimits.init_app).
LIMITER = "microblog.limiter"


def _current_limiter() -> Limiter:
    limiter: Limiter = current_app.extensions[LIMITER]
    return limiter


# The current application's rate limiter. Flask-Limiter keeps its storage, its on/off switch and
# its limits on the Limiter object rather than per application, so each application gets a
# Limiter of its own (two apps in one process, as tests make, must not share counts) and this
# proxy finds it: use it inside an application context, not to decorate views at import time.
limiter = cast(Limiter, LocalProxy(_current_limiter))
