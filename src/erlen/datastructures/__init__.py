"""HTTP data structures: multi-value dicts, headers, files and header values."""

from __future__ import annotations

from ._accept import Accept as Accept
from ._accept import CharsetAccept as CharsetAccept
from ._accept import LanguageAccept as LanguageAccept
from ._accept import MIMEAccept as MIMEAccept
from ._auth import Authorization as Authorization
from ._auth import WWWAuthenticate as WWWAuthenticate
from ._cache_control import RequestCacheControl as RequestCacheControl
from ._cache_control import ResponseCacheControl as ResponseCacheControl
from ._etag import ETags as ETags
from ._etag import IfRange as IfRange
from ._file_storage import FileMultiDict as FileMultiDict
from ._file_storage import FileStorage as FileStorage
from ._headers import EnvironHeaders as EnvironHeaders
from ._headers import Headers as Headers
from ._multidict import CallbackDict as CallbackDict
from ._multidict import CombinedMultiDict as CombinedMultiDict
from ._multidict import group_pairs as group_pairs
from ._multidict import ImmutableDict as ImmutableDict
from ._multidict import ImmutableList as ImmutableList
from ._multidict import ImmutableMultiDict as ImmutableMultiDict
from ._multidict import ImmutableTypeConversionDict as ImmutableTypeConversionDict
from ._multidict import iter_multi_items as iter_multi_items
from ._multidict import MultiDict as MultiDict
from ._multidict import multidict_from_flat as multidict_from_flat
from ._multidict import TypeConversionDict as TypeConversionDict
from ._range import ContentRange as ContentRange
from ._range import Range as Range
from ._structures import ContentSecurityPolicy as ContentSecurityPolicy
from ._structures import HeaderSet as HeaderSet
