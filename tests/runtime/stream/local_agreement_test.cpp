// LocalAgreement-2 on crafted hypothesis sequences: agreement, revision, n-gram duplicates,
// time-aware matching, forced commits and the confident-word option.
#include "stream/local_agreement.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace npw {
namespace {

// "text@start" words, each 0.3 s long.
std::vector<Word> words(std::initializer_list<std::pair<const char*, double>> ws, float prob = 0.5f) {
  std::vector<Word> out;
  for (const auto& [t, s] : ws) {
    Word w;
    w.word = t;
    w.start = s;
    w.end = s + 0.3;
    w.probability = prob;
    out.push_back(w);
  }
  return out;
}

std::string text(const std::vector<Word>& ws) {
  std::string s;
  for (const Word& w : ws) s += w.word;
  return s;
}

TEST(LocalAgreement, ComparableWordIgnoresCaseSpacesAndPunctuation) {
  EXPECT_EQ(comparable_word(" Hello,"), "hello");
  EXPECT_EQ(comparable_word("world."), "world");
  EXPECT_EQ(comparable_word(" don't"), "don't");
  EXPECT_EQ(comparable_word(" ..."), "");
}

TEST(LocalAgreement, CommitsTheCommonPrefixOfTwoHypotheses) {
  LocalAgreement a;
  a.insert(words({{" And", 0.0}, {" so", 0.4}, {" my", 0.8}}));
  EXPECT_TRUE(a.flush().empty());  // one hypothesis proves nothing
  a.insert(words({{" And", 0.02}, {" so,", 0.42}, {" my", 0.8}, {" fellow", 1.2}}));
  const auto c = a.flush();
  EXPECT_EQ(text(c), " And so, my");
  EXPECT_EQ(text(a.tentative()), " fellow");
  EXPECT_DOUBLE_EQ(a.last_committed_end(), 1.1);
}

TEST(LocalAgreement, RevisionStopsTheCommitAndIsNeverRetracted) {
  LocalAgreement a;
  a.insert(words({{" I", 0.0}, {" scream", 0.3}, {" ice", 0.6}}));
  a.flush();
  a.insert(words({{" I", 0.0}, {" scream,", 0.3}, {" you", 0.7}}));
  EXPECT_EQ(text(a.flush()), " I scream,");
  // The next hypothesis revises what was committed: the committed words stay (nothing is taken back
  // or said twice), "you" agrees with the previous tail, and the new "scream" waits for agreement.
  a.insert(words({{" Ice", 0.0}, {" cream", 0.3}, {" you", 0.7}, {" scream", 1.0}}));
  EXPECT_EQ(text(a.flush()), " you");
  EXPECT_EQ(text(a.tentative()), " scream");
  a.insert(words({{" Ice", 0.0}, {" cream", 0.3}, {" you", 0.7}, {" scream", 1.0}}));
  EXPECT_EQ(text(a.flush()), " scream");
}

TEST(LocalAgreement, SameTextAtAnotherTimeIsNotAgreement) {
  LocalAgreement a;
  a.insert(words({{" no", 0.0}, {" way", 0.4}}));
  a.flush();
  a.insert(words({{" no", 2.5}, {" way", 2.9}}));  // the speaker said it again, much later
  EXPECT_TRUE(a.flush().empty());
}

TEST(LocalAgreement, ReheardNgramIsNotEmittedTwice) {
  LocalAgreement a;
  a.insert(words({{" the", 0.0}, {" quick", 0.3}, {" brown", 0.6}}));
  a.flush();
  a.insert(words({{" the", 0.0}, {" quick", 0.3}, {" brown", 0.6}}));
  EXPECT_EQ(text(a.flush()), " the quick brown");
  // After a trim the buffer starts mid-phrase: the recogniser hears "quick brown" again right at the
  // committed end, with slightly later times. It is the same two words, not new ones.
  a.insert(words({{" quick", 0.85}, {" brown", 1.0}, {" fox", 1.3}}));
  a.flush();
  a.insert(words({{" quick", 0.86}, {" brown", 1.0}, {" fox", 1.3}}));
  EXPECT_EQ(text(a.flush()), " fox");
}

TEST(LocalAgreement, NgramFarFromTheCommittedEndIsNewSpeech) {
  LocalAgreement a;
  a.insert(words({{" yes", 0.0}}));
  a.flush();
  a.insert(words({{" yes", 0.0}}));
  ASSERT_EQ(text(a.flush()), " yes");
  a.insert(words({{" yes", 3.0}}));
  a.flush();
  a.insert(words({{" yes", 3.0}}));
  EXPECT_EQ(text(a.flush()), " yes");
}

TEST(LocalAgreement, WordsBeforeTheCommittedEndAreDropped) {
  LocalAgreement a;
  a.insert(words({{" one", 0.0}, {" two", 0.5}}));
  a.flush();
  a.insert(words({{" one", 0.0}, {" two", 0.5}}));
  ASSERT_EQ(text(a.flush()), " one two");
  a.insert(words({{" won", 0.1}, {" three", 1.0}}));
  a.flush();
  EXPECT_EQ(text(a.tentative()), " three");
}

TEST(LocalAgreement, ZeroLengthWordsAtTheCommittedEndAreNotCommittedAgain) {
  // A decoder whose timestamps collapse (random weights, a confused model) puts every word at the
  // buffer start; once committed, the same words must not come back step after step.
  LocalAgreement a;
  std::vector<Word> same;
  for (const char* t : {" a", " b", " c", " d", " e", " f", " g"}) same.push_back(Word{t, {}, 2.0, 2.0, 0.5f});
  a.insert(same);
  a.flush();
  EXPECT_EQ(a.commit_until(1e9).size(), same.size());
  for (int i = 0; i < 3; ++i) {
    a.insert(same);
    EXPECT_TRUE(a.flush().empty());
    EXPECT_TRUE(a.tentative().empty());
  }
}

TEST(LocalAgreement, CommitUntilFinalisesTheTentativeTailInOrder) {
  LocalAgreement a;
  a.insert(words({{" a", 0.0}, {" b", 0.5}, {" c", 1.0}}));
  a.flush();
  EXPECT_EQ(text(a.commit_until(0.7)), " a b");
  EXPECT_EQ(text(a.commit_until(1e9)), " c");
  EXPECT_TRUE(a.tentative().empty());
  // And they count as committed for the next hypotheses.
  a.insert(words({{" c", 1.0}, {" d", 1.5}}));
  a.flush();
  EXPECT_EQ(text(a.tentative()), " d");
}

TEST(LocalAgreement, ConfidentWordsNeedOneHypothesisOnlyWhenEnabled) {
  AgreementSettings s;
  LocalAgreement off(s);
  off.insert(words({{" hi", 0.0}, {" there", 0.4}}, 0.99f));
  EXPECT_TRUE(off.flush().empty());
  s.commit_confident = true;
  LocalAgreement on(s);
  on.insert(words({{" hi", 0.0}, {" there", 0.4}}, 0.99f));
  EXPECT_EQ(text(on.flush()), " hi");  // never the last word of a hypothesis
  on.insert(words({{" hi", 0.0}, {" there", 0.4}, {" you", 0.8}, {" all", 1.2}}, 0.5f));
  EXPECT_EQ(text(on.flush()), " there");  // agreed; "you" is not confident and waits
  EXPECT_EQ(text(on.tentative()), " you all");
}

TEST(LocalAgreement, ResetForgetsEverything) {
  LocalAgreement a;
  a.insert(words({{" x", 5.0}}));
  a.flush();
  a.insert(words({{" x", 5.0}}));
  a.flush();
  a.reset();
  EXPECT_DOUBLE_EQ(a.last_committed_end(), 0.0);
  a.insert(words({{" y", 0.0}}));
  a.flush();
  EXPECT_EQ(text(a.tentative()), " y");
}

}  // namespace
}  // namespace npw
