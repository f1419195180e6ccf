"""督办与预警规则：规则集中可选的 `chasing:` 块。

不写 `chasing:` 块时，按下列默认值执行；写了则只需写要改的项，其余取默认值。

    chasing:
      remind_days_before: 7              # 截止日前 7 天（自然日，含截止日当天）起列入每日提醒
      escalate_after_working_days: 3     # 逾期超过 3 个工作日仍未完成的，报上级党组织督办
      working_days_only: true            # 只在工作日发送提醒、督办和预警（周末、法定节假日不发，
                                         # 调休上班日照常发送）；预警照常登记，下一个工作日再通知
      inactivity_days: 30                # 连续 30 天没有任何活动记录 → 黄色预警
                                         # （彭山 e 支部：“有组织无活动”超过 30 天亮黄灯）
      inactivity_red_days: 90            # 连续 90 天没有活动 → 红色预警；写 null 则不设红色
      colour_period: monthly             # 三色评定的周期：monthly 每月、quarterly 每季度
      red:    {unfinished_at_least: 2}   # 本期到期的任务中未完成 2 项以上 → 红色
      yellow: {unfinished_at_least: 1, late_at_least: 1}
                                         # 未完成 1 项以上，或逾期完成 1 项以上 → 黄色；其余为绿色
      consecutive_red_periods: 2         # 连续 2 期红色 → 黄色预警，通知街道（乡镇）党组织约谈书记
                                         # （荣县“三色”管理：连续两次红色约谈乡镇党委书记）
      consecutive_red_periods_county: 3  # 连续 3 期红色 → 红色预警，报县（区）委；写 null 则不设
      coverage_min_full_members: 3       # 驻区单位、两新组织有正式党员 3 人以上而未单独建立党支部
                                         # → 黄色预警“应建未建”（《支部工作条例》：正式党员 3 人以上
                                         # 的，都应当成立党支部）
      notify_yellow_to: street           # 黄色预警通知哪一级：community 社区、street 街道、district 区县
      notify_red_to: district            # 红色预警通知哪一级

评色条件（red、yellow）可写的项，满足其中任意一项即为该颜色（先判红色，再判黄色）：
  unfinished_at_least   本期到期、至今未完成（逾期未办、被退回、期末未完成）的任务数下限
  late_at_least         本期到期、逾期才完成的任务数下限
  on_time_ratio_below   按期完成率低于该值（0–1，分母为本期到期且非豁免、非待审核的任务）
  no_activity           true：本期内没有任何活动记录
只评已经结束的周期；本期没有到期任务且未写 no_activity 的，为绿色。

预警通知：每个预警首次登记或升级时，通知一次上级（按 notify_yellow_to / notify_red_to 找到
该级党组织；该级未配置通知渠道的，通知最近一个配置了渠道的上级）。
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from models.org import UnitKind
from rules.duties import Strict


class ColourRule(Strict):
    """满足任意一项即为该颜色。"""

    unfinished_at_least: int | None = Field(default=None, ge=1, le=100)
    late_at_least: int | None = Field(default=None, ge=1, le=100)
    on_time_ratio_below: float | None = Field(default=None, gt=0, le=1)
    no_activity: bool = False

    @model_validator(mode="after")
    def _has_a_condition(self) -> ColourRule:
        if (self.unfinished_at_least is None and self.late_at_least is None
                and self.on_time_ratio_below is None and not self.no_activity):
            raise ValueError(
                "评色条件至少写一项：unfinished_at_least、late_at_least、on_time_ratio_below、no_activity"
            )
        return self


def _default_red() -> ColourRule:
    return ColourRule(unfinished_at_least=2)


def _default_yellow() -> ColourRule:
    return ColourRule(unfinished_at_least=1, late_at_least=1)


NotifyLevel = Literal["community", "street", "district"]


class Chasing(Strict):
    remind_days_before: int = Field(default=7, ge=0, le=60)
    escalate_after_working_days: int = Field(default=3, ge=0, le=60)
    working_days_only: bool = True
    inactivity_days: int = Field(default=30, ge=1, le=366)
    inactivity_red_days: int | None = Field(default=90, ge=2, le=732)
    colour_period: Literal["monthly", "quarterly"] = "monthly"
    red: ColourRule = Field(default_factory=_default_red)
    yellow: ColourRule = Field(default_factory=_default_yellow)
    consecutive_red_periods: int = Field(default=2, ge=1, le=12)
    consecutive_red_periods_county: int | None = Field(default=3, ge=2, le=24)
    coverage_min_full_members: int = Field(default=3, ge=1, le=50)
    notify_yellow_to: NotifyLevel = "street"
    notify_red_to: NotifyLevel = "district"

    @model_validator(mode="after")
    def _thresholds_rise(self) -> Chasing:
        if self.inactivity_red_days is not None and self.inactivity_red_days <= self.inactivity_days:
            raise ValueError(
                f"inactivity_red_days（{self.inactivity_red_days}）应大于 inactivity_days（{self.inactivity_days}）"
            )
        county = self.consecutive_red_periods_county
        if county is not None and county <= self.consecutive_red_periods:
            raise ValueError(
                f"consecutive_red_periods_county（{county}）应大于 consecutive_red_periods"
                f"（{self.consecutive_red_periods}）"
            )
        return self

    def notify_kind(self, red: bool) -> UnitKind:
        """The level of the tree that hears about a warning of this colour."""
        return UnitKind(self.notify_red_to if red else self.notify_yellow_to)
