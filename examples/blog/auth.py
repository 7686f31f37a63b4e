"""Accounts: register, log in, log out, and the ``login_required`` decorator."""

import functools
import sqlite3

from erlen import Blueprint
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import session
from erlen import url_for
from erlen.security import check_password_hash
from erlen.security import generate_password_hash

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")

#: Longest accepted user name, in characters.
MAX_USERNAME = 40


def login_required(view):
    """Send visitors who are not logged in to the login page instead of ``view``."""

    @functools.wraps(view)
    def wrapped_view(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return wrapped_view


@bp.before_app_request
def load_logged_in_user():
    """Put the logged-in user's row (or None) on ``g.user`` for every request."""
    user_id = session.get("user_id")
    if user_id is None:
        g.user = None
    else:
        g.user = (
            get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()
        )


@bp.route("/register", methods=("GET", "POST"))
def register():
    """Show the sign-up form; create the account from a valid one."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        error = None
        if not username:
            error = "Please choose a username."
        elif len(username) > MAX_USERNAME:
            error = f"Usernames are at most {MAX_USERNAME} characters long."
        elif not password:
            error = "Please choose a password."

        if error is None:
            db = get_db()
            try:
                db.execute(
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, generate_password_hash(password)),
                )
                db.commit()
            except sqlite3.IntegrityError:
                # The UNIQUE constraint decides, so two sign-ups racing for
                # one name cannot both win.
                error = f"The username {username} is already taken."
            else:
                flash("Your account is ready. Please log in.", "success")
                return redirect(url_for("auth.login"))

        flash(error, "error")

    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login():
    """Show the login form; log the user in from correct credentials."""
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = (
            get_db()
            .execute("SELECT * FROM user WHERE username = ?", (username,))
            .fetchone()
        )
        # APPSEC: one message for both mistakes, so the form does not tell
        # a stranger which usernames exist.
        if user is None or not check_password_hash(user["password"], password):
            flash("Incorrect username or password.", "error")
        else:
            # A fresh session at login: nothing from before carries over.
            session.clear()
            session["user_id"] = user["id"]
            flash(f"Welcome back, {user['username']}!", "success")
            return redirect(url_for("index"))

    return render_template("auth/login.html")


@bp.route("/logout", methods=("POST",))
def logout():
    """Forget the logged-in user and return to the front page."""
    # NOTE: POST only, so a link or an <img> on another page cannot log you out.
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("index"))
