"""Unbound extension objects, bound to an application in `create_app`."""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from microblog.db import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True)
