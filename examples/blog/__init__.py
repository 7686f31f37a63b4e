"""A small blog built with erlen: accounts, posts, and an SQLite database.

Run it from the repository root with ``erlen --app examples/blog run`` and
open http://127.0.0.1:5000. The database is created on the first start.
"""

import os

from erlen import Flask

#: The instance folder holds what belongs to one installation and is never
#: committed: the database and an optional ``config.py``. Set
#: ``BLOG_INSTANCE_PATH`` to keep it elsewhere (the tests use a temp folder).
DEFAULT_INSTANCE_PATH = os.path.join(os.path.dirname(__file__), "instance")


def create_app(test_config=None):
    """Create and configure the blog app (the factory ``erlen --app`` finds)."""
    instance_path = os.environ.get("BLOG_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path),
        instance_relative_config=True,
    )
    app.config.from_mapping(
        # Good enough on your own machine only: put a random SECRET_KEY in
        # instance/config.py before anyone else can reach the app.
        SECRET_KEY="dev",
        DATABASE=os.path.join(app.instance_path, "blog.sqlite"),
        # APPSEC: the browser does not send the session cookie with
        # cross-site POSTs, so another site cannot post or delete as you.
        SESSION_COOKIE_SAMESITE="Lax",
        # Posts are short text: refuse request bodies above 1 MiB (413).
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)

    from . import auth
    from . import blog
    from . import db

    db.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    # The blog's index is the site's front page: url_for("index") works too.
    app.add_url_rule("/", endpoint="index")
    return app
