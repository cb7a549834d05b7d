"""flask-smorest's Api, taught our error shape and auth scheme."""
from __future__ import annotations

import http
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.utils import prepare_response
from marshmallow import fields as ma_fields
from marshmallow.utils import missing
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.routing import IntegerConverter

from marketplace.kernel import request_limits
from marketplace.kernel.errors import PROBLEM_MEDIA_TYPE, http_exception_problem
from marketplace.kernel.jsoncodec import UntrustedJSONError, loads_untrusted
from marketplace.kernel.schemas import DecimalString, ProblemSchema


class IdConverter(IntegerConverter):
    """`<id:name>`: a database id (1 .. 2**31-1); anything else is a 404, never an overflow."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=2**31 - 1)


def id_param_schema(_converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}


class StrictParser(FlaskParser):
    """Unknown query parameters are refused like unknown body fields (webargs ignores them by default).

    A JSON body is read through the request's size limit (413, chunked bodies included), must say it is
    JSON (415 otherwise) and is parsed within `loads_untrusted`'s depth and number limits (400
    `invalid_json`, saying why). No body at all is "missing", so a schema names the required fields."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}

    def load_json(self, req, schema) -> Any:
        body = req.get_data(cache=True)
        if not body:
            return missing
        if not is_json_request(req):
            abort(415, messages={"json": [f"This endpoint takes a JSON body (Content-Type: application/json), "
                                          f"not {req.mimetype or 'an untyped body'}."]})
        try:
            return loads_untrusted(body)
        except UntrustedJSONError as error:
            abort(400, exc=error, messages={"json": [f"Invalid JSON body: {error.msg}."]})


#: What any JSON body may get before its schema runs: invalid JSON, too large, not JSON.
JSON_BODY_ERRORS = (http.HTTPStatus.BAD_REQUEST, http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE)


class Blueprint(SmorestBlueprint):
    """The blueprint every area uses. An operation taking a JSON body documents the 400, 413 and 415 its
    parser may answer, beside the 422 of its schema."""

    ARGUMENTS_PARSER = StrictParser()

    def arguments(self, schema, *, location: str = "json", **kwargs: Any):
        decorator = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return decorator

        def documented(func):
            view = decorator(func)
            responses = view._apidoc["arguments"]["responses"]
            for status in JSON_BODY_ERRORS:
                responses.setdefault(int(status), status.name)
            return view

        return documented


def _object_sizes(self, field, ret: dict, **kwargs) -> dict:
    """A Length validator on a Dict field bounds its number of keys: minProperties/maxProperties, not the
    minLength/maxLength (string keywords) apispec writes for it."""
    if isinstance(field, ma_fields.Dict):
        for length, properties in (("minLength", "minProperties"), ("maxLength", "maxProperties")):
            if length in ret:
                ret[properties] = ret.pop(length)
    return {}


class UntrustedJSONProvider(DefaultJSONProvider):
    """Flask's JSON provider, parsing within `loads_untrusted`'s limits: `request.get_json()` anywhere
    (rate-limit keys, idempotency fingerprints) gets the same answer as the arguments parser."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_untrusted(s)


class MarketplaceApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        super().init_app(app, *args, **kwargs)
        app.json = UntrustedJSONProvider(app)
        request_limits.init_app(app)

    def handle_http_exception(self, error):
        return http_exception_problem(error)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem document)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def _init_spec(self, **kwargs):
        super()._init_spec(**kwargs)
        self.register_field(DecimalString, "string", "decimal")
        self.ma_plugin.converter.add_attribute_function(_object_sizes)
        self.register_converter(IdConverter, id_param_schema)
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Access token from /api/v1/auth/token"}
        )
