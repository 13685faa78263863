package agentwire
