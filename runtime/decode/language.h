// One place that turns what a user writes for a language ("en", "EN", "en-US", "English", "auto")
// into Whisper's code, so the CLI, the element and Options::validate() accept exactly the same set.
#pragma once

#include <string>

namespace npw {

// "auto" (any case, or empty) -> "auto"; a Whisper code, a BCP 47 tag whose primary subtag is one
// ("en-US", "pt_BR"), or an English language name or OpenAI alias ("English", "castilian") -> the
// code. Throws npw::Error(InvalidArgument) naming the value otherwise.
std::string canonical_language(const std::string& value);

}  // namespace npw
