// OpenAI's merge_punctuations: opening punctuation (a word that is, stripped, part of `prepended`
// and has a leading space) joins the word after it; closing punctuation (a word that is part of
// `appended`) joins the word before it unless that one ends with a space. Merged-away entries keep
// their place with an empty word and no tokens, as in the reference (callers skip them). The
// "is part of" tests are Python substring tests, reproduced as such.
#pragma once

#include <string>
#include <vector>

#include "decode/word.h"

namespace npw {

// OpenAI's defaults.
extern const char kDefaultPrependPunctuations[];
extern const char kDefaultAppendPunctuations[];

void merge_punctuations(std::vector<Word>& alignment, const std::string& prepended, const std::string& appended);

}  // namespace npw
