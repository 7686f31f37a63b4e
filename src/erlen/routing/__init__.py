"""URL routing: rules, converters, the map, and matching and building URLs."""

from __future__ import annotations

from .converters import AnyConverter as AnyConverter
from .converters import BaseConverter as BaseConverter
from .converters import DEFAULT_CONVERTERS as DEFAULT_CONVERTERS
from .converters import FloatConverter as FloatConverter
from .converters import IntegerConverter as IntegerConverter
from .converters import NumberConverter as NumberConverter
from .converters import PathConverter as PathConverter
from .converters import UnicodeConverter as UnicodeConverter
from .converters import UUIDConverter as UUIDConverter
from .exceptions import BuildError as BuildError
from .exceptions import RequestAliasRedirect as RequestAliasRedirect
from .exceptions import RequestRedirect as RequestRedirect
from .exceptions import RoutingException as RoutingException
from .exceptions import ValidationError as ValidationError
from .exceptions import WebsocketMismatch as WebsocketMismatch
from .map import Map as Map
from .map import MapAdapter as MapAdapter
from .rules import EndpointPrefix as EndpointPrefix
from .rules import Rule as Rule
from .rules import RuleFactory as RuleFactory
from .rules import RuleTemplate as RuleTemplate
from .rules import RuleTemplateFactory as RuleTemplateFactory
from .rules import Subdomain as Subdomain
from .rules import Submount as Submount
