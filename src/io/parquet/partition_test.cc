// SPDX-License-Identifier: MIT
// Tests for partition folder names: Hive escaping, long values, field values, date formats.
#include "io/parquet/partition.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/test_util.h"

namespace pulse::io::internal {
namespace {

TEST(PartitionTest, EscapesAsHive) {
  EXPECT_EQ(EscapePartitionText("2024-01-01"), "2024-01-01");
  EXPECT_EQ(EscapePartitionText("a/b"), "a%2Fb");
  EXPECT_EQ(EscapePartitionText("../../x"), "..%2F..%2Fx");
  EXPECT_EQ(EscapePartitionText("a=b:c"), "a%3Db%3Ac");
  EXPECT_EQ(EscapePartitionText("\"#%'*?\\{[]^"), "%22%23%25%27%2A%3F%5C%7B%5B%5D%5E");
  EXPECT_EQ(EscapePartitionText(std::string("n\x01\n\x1f\x7f", 5)), "n%01%0A%1F%7F");
  EXPECT_EQ(EscapePartitionText(std::string("\0", 1)), "%00");
  // Not escaped by Hive: space, '.', '-', '}', non-ASCII.
  EXPECT_EQ(EscapePartitionText("a b.c-d}é"), "a b.c-d}é");
  // Whole "." and ".." never name the current or parent folder.
  EXPECT_EQ(EscapePartitionText("."), "%2E");
  EXPECT_EQ(EscapePartitionText(".."), "%2E%2E");
  EXPECT_EQ(EscapePartitionText("..."), "...");
}

TEST(PartitionTest, UnescapeReverses) {
  for (std::string text : {"a/b", "../../x", "%41", ".", "..", "x=y", "100%"}) {
    EXPECT_EQ(UnescapePartitionText(EscapePartitionText(text)), text);
  }
  EXPECT_EQ(UnescapePartitionText("%2f%zz%"), "/%zz%");
}

TEST(PartitionTest, DirName) {
  EXPECT_EQ(PartitionDirName("dt", "2024-01-01"), "dt=2024-01-01");
  EXPECT_EQ(PartitionDirName("user/id", "../../x"), "user%2Fid=..%2F..%2Fx");
  EXPECT_EQ(PartitionDirName("k", ".."), "k=%2E%2E");
}

TEST(PartitionTest, LongValuesAreCutWithAHash) {
  std::string a(300, 'a');
  std::string b = a + "b";
  std::string da = PartitionDirName("k", a);
  std::string db = PartitionDirName("k", b);
  EXPECT_EQ(da.size(), kMaxDirNameBytes);
  EXPECT_EQ(da.substr(0, 238), "k=" + std::string(236, 'a'));
  EXPECT_EQ(da[238], '~');
  EXPECT_NE(da, db);
  EXPECT_EQ(da, PartitionDirName("k", a));  // stable
  // The cut never splits an escape.
  std::string slashes(200, '/');
  std::string ds = PartitionDirName("k", slashes);
  EXPECT_LE(ds.size(), kMaxDirNameBytes);
  EXPECT_EQ(ds.substr(0, 5), "k=%2F");
  size_t tilde = ds.find('~');
  ASSERT_NE(tilde, std::string::npos);
  EXPECT_EQ((tilde - 2) % 3, 0u) << ds;
  // Nor a UTF-8 sequence: "é" is two bytes.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "é";
  std::string de = PartitionDirName("kk", accents);
  tilde = de.find('~');
  EXPECT_EQ((tilde - 3) % 2, 0u) << de;
  EXPECT_LE(de.size(), kMaxDirNameBytes);
}

TEST(PartitionTest, FieldValues) {
  EXPECT_EQ(FieldPartitionValue(nullptr), "__HIVE_DEFAULT_PARTITION__");
  Value null_value;
  EXPECT_EQ(FieldPartitionValue(&null_value), "__HIVE_DEFAULT_PARTITION__");
  Value empty("");
  EXPECT_EQ(FieldPartitionValue(&empty), "__HIVE_DEFAULT_PARTITION__");
  Value text("a/b");
  EXPECT_EQ(FieldPartitionValue(&text), "a/b");
  Value number(int64_t{42});
  EXPECT_EQ(FieldPartitionValue(&number), "42");
  Value flag(true);
  EXPECT_EQ(FieldPartitionValue(&flag), "true");
  Value fraction(1.5);
  EXPECT_EQ(FieldPartitionValue(&fraction), "1.5");
}

TEST(PartitionTest, ValidatesDateFormats) {
  EXPECT_OK(ValidateDateFormat("%Y-%m-%d"));
  EXPECT_OK(ValidateDateFormat("%Y-%m-%dT%H"));
  EXPECT_OK(ValidateDateFormat("%F %T %% %j"));
  EXPECT_OK(ValidateDateFormat("constant"));
  EXPECT_EQ(ValidateDateFormat("").message(), "partition_format must not be empty");
  EXPECT_EQ(ValidateDateFormat("%Y-%").message(),
            "partition_format \"%Y-%\" ends with a lone '%' (write %% for a percent sign)");
  EXPECT_EQ(ValidateDateFormat("%Y%Z").message(),
            "partition_format \"%Y%Z\" has the conversion %Z; use strftime conversions of the "
            "date and time such as %Y %m %d %H %M %S %j %F (see docs/parquet.md)");
  EXPECT_FALSE(ValidateDateFormat("%c").ok());  // locale-dependent
  EXPECT_FALSE(ValidateDateFormat("%Ey").ok());
}

TEST(PartitionTest, FormatsDatesInUtc) {
  DateFormatter day("%Y-%m-%d");
  EXPECT_EQ(day.Format(1704067259999), "2024-01-01");  // 2024-01-01T00:00:59.999Z
  EXPECT_EQ(day.Format(1704153599999), "2024-01-01");  // the last ms of the day
  EXPECT_EQ(day.Format(1704153600000), "2024-01-02");
  EXPECT_EQ(day.Format(-1), "1969-12-31");
  EXPECT_EQ(day.Format(0), "1970-01-01");
  DateFormatter hour("%Y-%m-%dT%H");
  EXPECT_EQ(hour.Format(1704070800000), "2024-01-01T01");
  DateFormatter long_format(std::string(300, 'x') + "%Y");
  EXPECT_EQ(long_format.Format(0), std::string(300, 'x') + "1970");
}

TEST(PartitionTest, PeriodEnds) {
  DateFormatter day("%Y-%m-%d");
  const EventTime midnight = 1704153600000;  // 2024-01-02T00:00:00Z
  EXPECT_FALSE(day.PeriodEndedBefore("2024-01-01", midnight - 1));
  EXPECT_TRUE(day.PeriodEndedBefore("2024-01-01", midnight));
  EXPECT_TRUE(day.PeriodEndedBefore("2024-01-01", kMaxWatermark));
  EXPECT_FALSE(day.PeriodEndedBefore("2024-01-01", kMinWatermark));
}

}  // namespace
}  // namespace pulse::io::internal
