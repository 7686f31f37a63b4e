"""Posts: the front page, and writing, editing and deleting your own posts."""

from erlen import abort
from erlen import Blueprint
from erlen import flash
from erlen import g
from erlen import redirect
from erlen import render_template
from erlen import request
from erlen import url_for

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)

#: Longest accepted post title, in characters.
MAX_TITLE = 120


@bp.route("/")
def index():
    """Show every post, newest first."""
    posts = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " ORDER BY created DESC, p.id DESC"
        )
        .fetchall()
    )
    return render_template("blog/index.html", posts=posts)


#: A post id in a URL: SQLite integers are 64-bit, so a larger number is no
#: post (404) rather than an OverflowError from the query (500).
POST_ID = f"int(max={2**63 - 1})"


def get_post(id, check_author=True):
    """Return the post ``id`` with its author's name.

    Abort with 404 if there is no such post, and with 403 if
    ``check_author`` is true and the post belongs to someone else.
    """
    post = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " WHERE p.id = ?",
            (id,),
        )
        .fetchone()
    )
    if post is None:
        abort(404, f"There is no post {id}.")
    if check_author and post["author_id"] != g.user["id"]:
        abort(403, "Only the author of a post may change it.")
    return post


def read_post_form():
    """Return the submitted title and body, and an error message or None."""
    title = request.form.get("title", "").strip()
    body = request.form.get("body", "").strip()
    error = None
    if not title:
        error = "Every post needs a title."
    elif len(title) > MAX_TITLE:
        error = f"Titles are at most {MAX_TITLE} characters long."
    return title, body, error


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create():
    """Show the form for a new post; publish it when valid."""
    if request.method == "POST":
        title, body, error = read_post_form()
        if error is None:
            db = get_db()
            db.execute(
                "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
                (title, body, g.user["id"]),
            )
            db.commit()
            flash("Your post is published.", "success")
            return redirect(url_for("blog.index"))
        flash(error, "error")

    return render_template("blog/create.html")


@bp.route(f"/<{POST_ID}:id>/update", methods=("GET", "POST"))
@login_required
def update(id):
    """Show the edit form for one of your posts; save it when valid."""
    post = get_post(id)

    if request.method == "POST":
        title, body, error = read_post_form()
        if error is None:
            db = get_db()
            db.execute(
                "UPDATE post SET title = ?, body = ? WHERE id = ?", (title, body, id)
            )
            db.commit()
            flash("Your post is updated.", "success")
            return redirect(url_for("blog.index"))
        flash(error, "error")

    return render_template("blog/update.html", post=post)


@bp.route(f"/<{POST_ID}:id>/delete", methods=("POST",))
@login_required
def delete(id):
    """Delete one of your posts."""
    get_post(id)
    db = get_db()
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    flash("Your post is deleted.", "success")
    return redirect(url_for("blog.index"))
