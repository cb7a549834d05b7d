"""flask-smorest's Api, taught our error shape and auth scheme."""
from __future__ import annotations

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response

from marketplace.errors import PROBLEM_MEDIA_TYPE, http_exception_problem
from marketplace.schemas import ProblemSchema


class MarketplaceApi(Api):
    ERROR_SCHEMA = ProblemSchema

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
        self.spec.components.security_scheme(
            "bearerAuth", {"type": "http", "scheme": "bearer", "description": "Access token from /api/v1/auth/token"}
        )
