"""contentapi: a folder of Markdown pages served as a typed GraphQL content API."""

from contentapi.content.index import ContentIndex as ContentIndex
from contentapi.settings import Settings as Settings

__version__ = "0.1.0"
