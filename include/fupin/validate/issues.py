"""Row and file issues, and the Chinese words a clerk reads about each rule.

Every check — the reader, the normaliser, the Great Expectations suites and the cross-row rules —
reports an `Issue`; the receipt lists them all the same way.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# rule -> (what is wrong, what to do). `{header}` is the column as the clerk wrote it.
CATALOG: dict[str, tuple[str, str]] = {
    # file level
    "format": ("文件格式无法识别", "请另存为 .xlsx、.xls 或 CSV 后重新报送。"),
    "too_large": ("文件过大", "请拆分文件或删除无关内容后重新报送。"),
    "corrupt": ("文件无法读取", "请用 Excel 打开确认无误后重新保存并报送。"),
    "encoding": ("CSV 编码无法识别", "请另存为“CSV UTF-8（逗号分隔）”后重新报送。"),
    "month_missing": ("文件名中没有报送月份", "请在文件名中写明月份，例如“卫计局_2017年6月.xlsx”或“health_201706.xlsx”。"),
    "month_out_of_range": ("文件名中的月份不在可报送的范围内", "请检查文件名中的年份和月份是否写错，例如“卫计局_2017年6月.xlsx”，改正后重新报送。"),
    "month_ambiguous": ("文件名中有两个不同的月份", "文件名中只保留一个报送月份，例如“卫计局_2017年6月.xlsx”。"),
    "no_dataset": ("没有找到可识别的表头", "请使用本单位的报送模板（fupin templates 生成），表头须在前 10 行内。"),
    "wrong_folder": ("文件表头属于其他单位的报表", "请确认报送文件夹：该表应放入对应单位的文件夹。"),
    "missing_dataset": ("缺少必报的表", "请补充该表（可作为同一工作簿中的另一个工作表）后重新报送。"),
    "no_rows": ("表头下方没有数据行", "请在表头下方逐行填写本月数据（每个对象一行）后重新报送整个文件。"),
    "missing_column": ("缺少必填列", "请按模板补上该列（表头文字须与模板一致）后重新报送。"),
    "missing_villages": ("缺少部分村的数据", "全县每个行政村须有一行，请补齐后重新报送。"),
    "extent": ("工作表的数据区域异常", "请删除数据区域以外的空行、空列，或新建工作簿只粘贴数据后重新报送。"),
    "unreadable_content": ("文件中有无法校验的内容", "请用本单位的报送模板重新整理数据后报送；如仍不能通过，请联系扶贫办技术人员。"),
    "system_failure": ("平台多次处理该文件均未成功（不是文件内容的问题）", "无需修改文件，技术人员已收到通知，处理后会告知结果。"),
    # cell level
    "required": ("必填项为空", "请填写“{header}”。"),
    "required_if": ("按其他列的填写，此项必填", "请填写“{header}”（{condition}时必填）。"),
    "enum": ("不在可选值范围内", "“{header}”只能填：{values}。"),
    "town": ("镇（街）名称不正确", "请填写本县的镇（街）全称，例如“{example}”。"),
    "village": ("村名不属于所填的镇（街）", "请核对村名和所属镇（街），村名以参考名录为准。"),
    "pattern": ("格式不正确", "“{header}”应为{pattern_text}，请核对。"),
    "unique": ("在文件中重复出现", "同一人（或同一记录）只能出现一次，请删除重复行。"),
    "duplicate_row": ("与文件中另一行重复", "同一{what}只能填一行，请删除或合并重复的行。"),
    "control_char": ("含有不可见的控制字符", "请删除该单元格内容后重新输入（不要从其他系统直接复制粘贴）。"),
    "not_finite": ("不是有效的数字", "请填写具体数字，如 1234.5。"),
    "too_long": ("内容过长", "“{header}”最多 {max} 个字，请核对是否填错了列或粘贴了多余内容。"),
    "range": ("数值超出范围", "“{header}”应在 {min} 至 {max} 之间，请核对。"),
    "length": ("长度不正确", "“{header}”应为 {min} 至 {max} 个字符。"),
    "not_above": ("大于“{other}”", "“{header}”不能大于“{other}”，请核对。"),
    "after_month": ("晚于报送月份", "“{header}”不能晚于报送月份的最后一天，请核对。"),
    "before_month": ("早于报送月份", "本表只报本月发生的拨付：“{header}”须在报送月份之内；以前月份的拨付请在该月的文件中补报。"),
    "payee_id": ("证件号码不正确", "收款对象为农户时填写 18 位身份证号；为企业、村集体或施工单位时填写 18 位统一社会信用代码（见营业执照），请核对。"),
    "date_order": ("日期先后顺序不对", "“{header}”不能早于“{other}”，请核对。"),
    "money_format": ("不是有效的金额", "请填写数字，如 1234.5（可带“元”或千分位逗号）。"),
    "int_format": ("不是整数", "请填写整数。"),
    "date_format": ("不是有效的日期", "请填写日期，如 2017-06-01 或 2017年6月1日。"),
    "bool_format": ("不是“是/否”", "请填写“是”或“否”。"),
    "id_missing": ("身份证号为空", "请填写 18 位身份证号。"),
    "id_format": ("身份证号位数或字符不正确", "请填写 18 位身份证号（末位可为 X），请勿填写空格或其他字符。"),
    "id_as_number": ("身份证号被 Excel 存成了数字，末几位已丢失", "请把该列设为“文本”格式，重新录入完整号码（不能直接改格式，数字已丢失）。"),
    "id_birth_date": ("身份证号中的出生日期无效", "请核对身份证号。"),
    "id_check_digit": ("身份证号校验位错误", "请对照身份证原件核对号码（常见为某一位录错）。"),
    "one_head": ("同一户的户主不是恰好一人", "每户须有且只有一名“户主”，请核对“与户主关系”。"),
    "same_income": ("同一户成员的家庭年人均收入不一致", "同一户所有成员的该项须相同，请核对。"),
    # warnings
    "id_region": ("身份证号不是本县地区码", "如为外地迁入、婚入人员请忽略；否则请核对号码。"),
    "id_upgraded": ("15 位身份证号已自动升为 18 位", "请在下次报送时使用 18 位号码。"),
    "extra_column": ("未知列，已忽略", "如为必要信息请联系扶贫办；否则可删除该列。"),
    "unmatched_sheet": ("工作表未识别，已忽略", "如该表需要报送，请按模板表头填写。"),
    "not_in_registry": ("不在最新的建档立卡名单中", "请核对该人员是否为建档立卡贫困人口。"),
    "household_not_in_registry": ("户编号不在最新的建档立卡名单中", "请核对户编号。"),
    "location_differs": ("所在镇村与建档立卡名单不一致", "请与扶贫办核对该人员的镇、村。"),
    "same_as_other_month": ("文件内容与其他月份报送的文件完全相同", "如本月数据确实未变可忽略；否则请核对是否报错了月份。"),
    "same_as_rejected": ("文件内容与此前未通过的文件完全相同", "如已按回执改正，请核对是否报送了改正后的文件。"),
    "extension_mismatch": ("文件扩展名与实际格式不符", "下次请直接保存为 .xlsx 文件，不要手工修改扩展名。"),
    "superseded": ("同月已有更新的文件，本文件未替换数据", "无需处理。"),
}


def amount(value: float | int, unit: str = "") -> str:
    """A number as people write it: 99,999 元, 1,234.5 万元, 12 (no trailing .0)."""
    value = float(value)
    text = f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


@dataclass
class Issue:
    severity: str  # "error" or "warning"
    rule: str
    message: str
    fix: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # the header as the clerk wrote it
    value: str | None = None  # already masked where personal

    def to_dict(self) -> dict:
        return asdict(self)


def issue(
    rule: str,
    *,
    severity: str = "error",
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
    detail: str | None = None,
    **params: object,
) -> Issue:
    """Build an issue from the catalog; `params` fill the placeholders of the fix text."""
    what, fix = CATALOG[rule]
    params.setdefault("header", column or "")
    fill = _Blank(params)
    message = what.format_map(fill)
    if detail:
        # a did-you-mean is its own sentence; any other detail says which or what
        message = f"{message}。{detail}" if detail.startswith("是否为") else f"{message}：{detail}"
    return Issue(severity, rule, message, fix.format_map(fill), sheet, row, column, value)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
