{{ value }}|{{ value|safe }}
