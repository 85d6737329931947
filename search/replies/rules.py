"""Pattern layer of the reply checker: one regex per way of saying a forbidden phrase, with
guards that tell a forbidden use from good practice sharing its words.

Each ``Rule`` is a regex for one phrase (``Rule.phrase`` is the phrase's ``n`` in
search/data/reference.yaml) plus guards:

- ``pre``: must not occur in the clause before the match (我们会/帮您 before 联系开发商: we
  contact the developer, the owner is not sent away; 您 as the nearest subject before 不清楚:
  the owner is the one who does not know);
- ``post``: must not follow the match (没说 + 清楚 is owning a mistake, not denial);
- ``ctx``: must not occur in the match's clause, sentence, or sentence and neighbours
  (``window`` -1/0/1): a definite time (今天下午四点前) turns 改天再联系 into a commitment,
  马上去查/我来问 turns 我不清楚 into first-contact responsibility, 不过/可以/办法 turns a "no"
  into a refusal with a way out.

The rules live here, in code, not in the YAML file: they are regexes bound to the guard logic
that interprets them and to the tests next to them, and they are not content a trainer edits.
The data file keeps the human-readable part (text, harm, better and the ``variants``
paraphrases), which the site shows and the semantic layer embeds. A phrase of the data file
with no rule here is found by the semantic layer only; a rule for a phrase the data file does
not have is not used (``rules_for``).

Scope decisions (what "in substance" means here):
- Phrase 3 is about pushing the owner to the developer/builder (开发商、开发公司、建设单位、
  地产公司 …). Pushing to other bodies (供热公司、交警) is bad practice too but not phrase 3.
- 不可能 about a fact (有这种事、发生、坏) is phrase 1; 不可能 about a request (给您办、同意、
  退费) is a flat refusal, phrase 9.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from search.replies.normalise import Unit, clause_before, clause_of, trim, window

# A definite time or an immediate action: turns "we'll get back to you" into a commitment.
DEADLINE = (
    r"(?:\d+|[一二三四五六七八九十两半]+)(?:点|点钟|个?小时|分钟|个?工作日|天之?内|天以内)"
    r"|今天|今晚|今日|明天|明早|明晚|明日|后天|本周|这周|下周|周[一二三四五六日天末]|星期[一二三四五六日天]"
    r"|礼拜[一二三四五六日天]|\d+[号日]|[上下]午|中午|傍晚|当天|第一时间|马上|立刻|立即|现在就|这就|具体时间|约定|约好"
)
# The agent takes the task on (first-contact responsibility).
TAKE_ON = (
    DEADLINE + r"|赶紧|尽快|小时内|分钟内"
    r"|(?:我|我们|咱们)[^您你,，。不没]{0,4}(?:查|问|核实|确认|了解|打听|落实|联系|请教|打个电话)"
    r"|(?:帮|替|给)您(?:查|问|核实|确认|了解|打听|落实|联系|请教)|给您(?:答复|回复|回电)"
)
DEV = (
    r"(?:开发商|开发公司|开发单位|开发方|开发建设单位|建设单位|建设方|地产商|地产公司|房地产公司|房地产商|房开"
    r"|开发企业)"
)
# We (not the owner) deal with the developer.
HELP = (
    r"帮您|替您|协助|陪您|代您|代为|跟进|督促|帮你|替你|由我们|出面|牵头|报告|汇总"
    r"|我们(?:这边)?(?:来|会|去|先|负责|帮|替|已经|马上|立刻|这就)"
    r"|我(?:来|去|帮|替|这就|马上)|我会(?:帮|替|去|联系|跟)"
    r"|(?:我们|我)[^您你,，。]{0,6}(?:反映|转交|转给|对接|协调|沟通)"
)
WE_BEFORE = (
    r"(?:我们|咱们|我|由我们|物业)(?:这边)?"
    r"(?:来|会|去|先|马上|立刻|已经|负责|可以|直接|统一|正在|尽快|这就|帮您|替您|帮你)*$"
)
# The nearest subject before the match is the customer (or someone else), not the agent.
OTHER_SUBJ = r"(?:您|你|业主|客户|他|她|大家|别人|人家|他们|孩子|老人)[^我]*$"


@dataclass(frozen=True)
class Rule:
    phrase: int
    pattern: re.Pattern
    pre: re.Pattern | None = None  # must not be found in the clause before the match
    post: re.Pattern | None = None  # must not match right after the match
    ctx: re.Pattern | None = None  # must not be found in the context (see ``window``)
    window: int = 0  # -1 = the clause of the match; 0 = the sentence; 1 = also the previous and next sentences
    name: str = ""


def _r(phrase: int, pattern: str, pre: str | None = None, post: str | None = None, ctx: str | None = None,
       window: int = 0, name: str = "") -> Rule:
    c = lambda p: re.compile(p) if p else None  # noqa: E731
    return Rule(phrase, re.compile(pattern), c(pre), c(post), c(ctx), window, name or pattern[:20])


# "不可能 / 不会" about a request: a refusal (phrase 9), not a denial of fact (phrase 1)
REQUEST = (
    r"(?:给您|帮您|替您|让您|给你|帮你|让你|同意|批准|批|允许|答应|满足|实现|通过"
    r"|退|免|减|赔|办|装|改|拆|搬|换|放行|通融|破例)"
)
FACT_PROMISE = r"不会再|再也不会|不能再|保证|确保|避免|防止|杜绝|以后不会|今后不会|下次不会|不允许再"
SPOKE = r"(?:这么|那么|这样|那样|跟您|跟你|和您|和你|对您|对你|给您|给你)?(?:说|讲|答应|承诺|保证|许诺|提|说起|提起)"
THING = r"(?:这种|这样的|那种|那样的|这个|这类|这回|那回|这些)"

RULES: tuple[Rule, ...] = (
    # 1 不可能：否定业主说的事实
    _r(1, r"怎么可能|怎么会有" + THING + r"?事|不(?:太|大)?可能",
       pre=r"(?:不是|没有什么|没什么|并非|并不是|不是说)$",
       post=r"不|" + REQUEST,
       ctx=FACT_PROMISE,
       name="不可能"),
    _r(1, r"(?:不会|不可能|没)(?:有|出|发生|出现)(?:过)?(?:您|你)?"
          r"(?:说的|讲的|反映的|看到的|听到的)?" + THING + r"(?:事|情况|问题|现象)"
          r"|(?:哪|哪里|哪儿)(?:有|会有|来的)" + THING + r"?事",
       ctx=FACT_PROMISE, name="不会有这种事"),
    _r(1, THING + r"(?:事|事情|情况|问题|现象)[^,，。!?！？]{0,8}(?:从来|根本|绝对|压根)?(?:都|也)?"
                  r"(?:不会|不可能|没|没有)(?:再)?(?:发生|出现|有过|出过)",
       ctx=FACT_PROMISE, name="这种事不会发生"),
    _r(1, r"(?:从来|从|绝对|根本|压根)(?:都|就|也)?(?:不会|没有?)(?:出过|发生过?|出现过?|有过)",
       ctx=FACT_PROMISE,
       name="从来不会发生"),
    _r(1, r"(?:根本|压根|就|绝对)?(?:没|没有|不存在)(?:您|你)?(?:说的|讲的|反映的)?"
          r"(?:这回事|那回事|这种事|这事儿?|这个事|这样的事)"
          r"|(?:事|事情|情况|问题|现象)(?:根本|压根|完全)?不存在|(?:根本|压根|完全)不存在"
          r"|(?:从来|压根|根本)(?:都|就|也)?(?:没|没有)(?:碰到|遇到|见过|听说)过?",
       ctx=FACT_PROMISE, name="没这回事"),
    _r(1, r"怎么(?:可能|会)(?:有|出|发生|坏|漏|响|臭|停|丢)",
       ctx=r"马上|立刻|核实|查看|去看|看看|抱歉|对不起|" + FACT_PROMISE,
       name="怎么会有"),
    _r(1, r"瞎说|胡说|乱说|胡扯|瞎扯|瞎编|编的吧|夸大其词", pre=r"(?:不|别|没|不会|不敢|不能)$", name="瞎说"),
    _r(1, r"(?:您|你)(?:肯定|一定|是不是|应该|准是|大概|可能)?(?:是)?(?:看错|听错|搞错|弄错|看花眼|想多|多心)",
       name="您看错了"),
    _r(1, r"(?:保安|师傅|员工|保洁|管家|客服|同事|经理|工作人员|人|设备|电梯|监控|系统)(?:是)?(?:绝对|肯定|根本|从来)"
          r"(?:都)?(?:不会|不可能)"
          r"|(?:保安|师傅|员工|保洁|管家|客服|同事|工作人员)(?:们)?(?:不会|不可能)"
          r"(?:干|做|说|有)?" + THING + r"(?:事|话)",
       ctx=FACT_PROMISE, name="我们的人不会"),
    # 2 我没说过：否认说过/答应过
    _r(2, r"(?:我们|咱们|我|本人)(?:从来|从|绝对|根本|压根|可|并|也|都|真的?|确实|当时|之前|以前)*"
          r"(?:没|没有|未|不曾|从未)" + SPOKE + r"(?:过)?"
          r"|(?:从来|从|绝对|根本|压根|可)(?:都|也)?(?:没|没有|未|不曾|从未)" + SPOKE + r"过?"
          r"|(?:没|没有|从未|不曾)" + SPOKE + r"过",
       pre=OTHER_SUBJ + r"|(?:如果|要是|是不是|是否|有没有)$",
       post=r"清楚|清|明白|完|好|错|到|全|前|出|供|醒|交|高|升|议|案|及|的(?:情况|事|地方|内容|问题|东西)",
       ctx=r"(?:是|怪)我们?没(?:有)?(?:说|讲)|没(?:有)?(?:说|讲)(?:清楚|明白)",
       name="没说过"),
    _r(2, r"(?:这|那|这句|那句)?(?:话|个)?不是我(?:们)?(?:说|讲)的"
          r"|(?<![您你他她])(?:我们?)?(?:哪|哪里|哪儿|什么时候|啥时候)(?:说|讲|答应|承诺)(?:过|的)"
          r"|谁(?:跟|给|和|对)?(?:您|你)?(?:说|讲|答应|承诺)(?:过|了)?(?:您|你)?的"
          r"|谁(?:跟|给|和|对)?(?:您|你)?(?:说|讲|答应|承诺)过(?!什么)"
          r"|不记得(?:我|我们)?(?:有)?(?:说|讲|答应|承诺)过|不是我的原话"
          r"|(?:没有|没)(?:这种|这个|那种|这样的)(?:说法|承诺)",
       name="不是我说的"),
    # 3 去找开发商：把业主推给开发商
    _r(3, r"(?:找|去找|去问|问|联系|打给|打电话给|去|反映给|投诉)" + DEV
          + r"|" + DEV + r"(?:那边|那里|那儿)?(?:的电话)?(?:您|你)(?:自己)?(?:去)?(?:找|问|联系|打|反映)"
          + r"|(?:向|跟|和|给)" + DEV + r"(?:那边)?(?:反映|投诉|提|要求|索赔|申请|报修|说|交涉|沟通|协商|谈|理论|联系)"
          + r"|" + DEV + r"[^。!?！？]{0,12}(?:您|你)(?:得|要|就|可以|还是|最好|自己|直接|去)*(?:找|问|联系)"
                         r"(?:他们|他|那边|它)"
          + r"|" + DEV + r"[^。!?！？]{0,14}(?:您|你)(?:自己|直接)(?:去)?(?:找|问|联系|打|处理|解决|交涉)",
       pre=WE_BEFORE + "|" + HELP, post=r"交", ctx=HELP, name="找开发商"),
    _r(3, DEV + r".{0,12}(?:跟|和|与)(?:我们|物业|咱们).{0,4}(?:没|无|没有)(?:关系|关)|" + DEV
          + r".{0,12}(?:不归|不是|不关)(?:我们|物业|咱们)"
            r"|(?:跟|和|与)(?:我们|物业)(?:物业)?(?:没|没有|无)关系?.{0,12}" + DEV
          + r"|(?:不归|不是)(?:我们|物业)(?:物业)?(?:管|的事|负责).{0,12}" + DEV
          + r"|" + DEV + r".{0,8}(?:我们|物业)(?:可|也|真的?)?(?:管不了|管不着|不管|没法管|没办法)",
       name="开发商的事跟我们无关"),
    _r(3, r"(?:属于|归|是|算)" + DEV + r"(?:的)?(?:事|问题|责任|管|负责|的事情|那边的事)",
       pre=r"涉及", ctx=HELP, window=1, name="属于开发商"),
    # 4 一分钱一份事：服务跟钱讨价还价
    _r(4, r"一分钱.{0,2}一(?:份|分)(?:事|货|服务|活)|一分价钱一分货|便宜没好货"
          r"|(?:给|交|付|出|收)?多少钱.{0,3}(?:办|做|干|享受|给|有|是)?多少(?:事|服务|活)"
          r"|(?:给|交|付|出)(?:多少|几个)钱.{0,4}(?:办|做|干)(?:多少|几件|什么)(?:事|活)|按钱办事"
          r"|(?:钱|费).{0,2}(?:和|跟)服务(?:成|是)正比",
       name="一分钱一份事"),
    _r(4, r"(?:就|只|才)?(?:交|收|给|付|出)?(?:了)?(?:那|这)(?:么)?(?:点|点儿|几个|几块)(?:钱|物业费|费用).{0,12}"
          r"(?:还想|还要|想要|指望|能有|别要求|就别|要求|服务|就这样|能干|能办|能做)"
          r"|(?:物业费|收费|钱|费用)(?:就|才|只有|只)?(?:交|收|给|付)?(?:了)?(?:这么|那么)?(?:低|少|便宜|多|点).{0,12}"
          r"(?:还想|还要|想要|指望|别要求|就别|要求太高|就这样|服务就|服务也|只够|只能)"
          r"|(?:想要|要)(?:更好|好一点|好点|更多|五星级|高档)(?:的)?服务.{0,6}(?:多交|加钱|多付|多出钱|交更多)"
          r"|(?:物业费|钱|费用)[^。!?！？]{0,12}(?:还想要|还要|还想|还指望|指望|能有|能要)[^。!?！？]{0,8}服务"
          r"|多(?:交|给|付|出)(?:点|些|一点)?(?:钱|物业费|费)[^。!?！？]{0,10}服务|(?:钱|物业费|费用)[^。!?！？]{0,4}"
          r"(?:少|低|便宜)[^。!?！？]{0,8}服务[^。!?！？]{0,4}(?:差|一般|就这样|也就|只能|当然|自然)|服务(?:要|想)好"
          r"[^。!?！？]{0,6}多(?:交|给|付|出)"
          r"|服务[^。!?！？]{0,8}(?:看|取决于|要看|得看)[^。!?！？]{0,4}(?:交|给|付|出)(?:多少|几个)钱"
          r"|(?:交|给|付|出)多少钱[^。!?！？]{0,6}(?:决定|就有|就是|享受)[^。!?！？]{0,4}(?:多少|什么样的|什么)?服务",
       ctx=r"每一分钱|每一笔|明细|公示|公开|用在哪|不会多收", name="就这点钱"),
    # 5 太简单了：轻视业主
    _r(5, r"太(?:简单|容易)",
       pre=r"(?:不|没|并非|(?:答复|回答|回复|处理|做法|说明|解释|介绍|方案|理由|原因|道理)(?:有点|有些|也)?)$",
       post=r"的步骤|的说明|的介绍",
       name="太简单"),
    _r(5, r"(?:这么|那么|多|非常|很|特别|超|挺|可)(?:简单|容易)(?:了|的|啊|嘛|呀|呢|吧|得很)?",
       pre=r"(?:不|没|没有|并非|并不|不是|(?:答复|回答|回复|处理|做法|说明|解释|介绍|方案|理由|原因|道理)(?:有点|有些"
           r"|也)?)$",
       post=r"(?:的|地)?(?:步骤|说明|介绍|卡|图|来说|说|讲|处理|记录|登记|了解|操作卡)|[:：]"
            r"|(?<=容易)(?![了的啊嘛呀吧得,，。!?！？]|$)",
       ctx=r"陪您|教您|帮您|我来|一步一步|一步步|手把手|演示|示范|不太顺手|不顺手|不好用|不熟悉|刚开始", name="很简单"),
    _r(5, r"(?:这|那|这个|那个)?(?:有|又有)?(?:什么|啥)(?:难|不会|复杂|好难)的|有(?:什么|啥)(?:难|不会)的"
          r"|(?:这|那|这个|那个|这么简单的|这点小事|这都)(?:都|也)?(?:不会|不懂|搞不定|弄不明白|弄不好|学不会)"
          r"(?:吗|啊|呀|呢)"
          r"|(?:这|那)(?:个|种|点|么)?(?:简单的|点|么点)?(?:小)?(?:事|事情|事儿|问题|东西)?(?:都|也)"
          r"(?:不会|不懂|搞不定|弄不明白|弄不好|学不会|办不好|弄不来)"
          r"|连[^,，。!?！？]{1,6}(?:都|也)(?:不会|不懂|搞不定|弄不明白|不知道|学不会|用不好|弄不好)"
          r"|(?:小孩|孩子|小孩子|小学生|三岁小孩|谁)(?:子)?(?:都|也)(?:会|懂|知道|能)"
          r"(?=用|操作|弄|做|开|搞|[,，。!?！？吧啊嘛的了]|$)"
          r"|一看就(?:会|懂)|(?:这|那)(?:还|有)?不(?:简单|容易)(?:吗|嘛|啊)"
          r"|怎么(?:还|又)(?:是)?(?:不会|不懂|学不会|没学会|弄不明白|搞不懂)|这还用(?:问|教|说|学)"
          r"|(?:这种|这点|这么点|这么简单的)(?:小)?事(?:情|儿)?(?:还|也)(?:要|用|得|来)[^,，。]{0,6}问",
       name="这都不会"),
    # 6 改天再联系：没有时间、没有责任人的承诺
    _r(6, r"(?:改天|改日|回头|过几天|过两天|过些天|过些日子|过段时间|过一阵子?|有空|有时间|以后|哪天|下回|下次|晚点"
          r"|等有空)"
          r"(?:了|的时候|以后|后)?(?:我们|我|咱们)?(?:再|会|就)?(?:和|跟|给)?(?:您|你)?"
          r"(?:联系|回复|通知|答复|回电|回电话|打电话|打给|告诉|说|聊|谈|回您|回你|反馈|回访)",
       pre=r"(?:您|你|业主)$", ctx=DEADLINE, window=-1, name="改天再联系"),
    _r(6, r"(?:改天|改日|回头|过几天|过两天|过些天|过段时间|过一阵子?|有空|有时间|哪天|等有空)(?:了|的时候)?"
          r"(?:我们|我|咱们)?(?:再|会|就)?"
          r"(?:派人|安排人?|过去|去看|上门|来修|修|看看|处理|弄)",
       pre=r"(?:您|你|业主)$", ctx=DEADLINE, window=-1, name="有空再派人"),
    _r(6, r"(?:到时候?|有消息|有结果|有进展|有了结果|有了消息|有信儿|研究研究|研究一下|商量商量"
          r"|等(?:我们)?(?:的)?(?:通知|消息))(?:了|后)?"
          r"(?:我们|我|咱们)?(?:再|会|就)(?:和|跟|给)?(?:您|你)?"
          r"(?:联系|回复|通知|答复|回电|回电话|打电话|告诉|说|回您|回你|反馈)",
       pre=r"如果|要是|万一|假如", ctx=DEADLINE + r"|主动", window=1, name="到时候再说"),
    _r(6, r"(?:回去|先|您|你)?等(?:我们的?|我的)?(?:通知|消息|电话)(?:吧|就行|就好|就是了)"
          r"|(?:以后|回头|改天|到时候?|过段时间|过几天)再说|等[^,，。!?！？]{1,8}再说(?:吧|了)?(?=[,，。!?！？]|$)"
          r"|等[^,，。!?！？]{1,8}再(?:和|跟|给)?(?:您|你)?(?:联系|回复|通知|答复|回电|打电话)",
       ctx=DEADLINE, name="等通知"),
    # 7 我不清楚：违背首问责任
    _r(7, r"(?:不大|不太|不是很|不是太|不怎么|并不|也不|真不|不)(?:清楚|知道|了解|懂|晓得|明白|确定|熟悉)"
          r"|(?:说|讲)不(?:好|准|上来|清)|(?:搞|弄)不(?:清楚|明白|懂)",
       pre=OTHER_SUBJ + r"|连[^我]*$|(?:有|什么|哪里|哪儿|哪些|如果|要是|若|万一)$",
       post=r"(?:的)?(?:地方|之处|话)|的(?:可以|请|随时|尽管|事|问题|情况|内容|人|老人|业主)"
            r"|[^,，。!?！？;；]{0,4}(?:您|你)|是否|能否|能不能|可不可以|方不方便|有没有|吗",
       ctx=TAKE_ON, window=1, name="不清楚"),
    _r(7, r"我(?:哪|怎么|又怎么|上哪)(?:知道|晓得|清楚)|谁知道|天知道"
          r"|(?:这|那|这个|那个)?(?:不归|不是)我(?:管|负责)(?:的)?"
          r"|(?:做|作)不了(?:这个)?主|^不好说|我(?:们)?不是(?:负责|管)(?:这|那)?(?:块|个|方面|事|摊)?的"
          r"|不(?:是|归)我们?(?:部门|科室)|(?:您|你)(?:还是)?(?:去)?(?:找|问)别人(?:吧|去)?",
       ctx=TAKE_ON, window=1, name="我哪知道"),
    # 8 总会有办法：空头承诺
    _r(8, r"总(?:会|能|归|是|有)(?:会|能)?(?:有|想到|找到|想出|想)?"
          r"(?:办法|法子|出路|解决|处理好|解决好|好起来|搞定|过去)",
       name="总会有办法"),
    _r(8, r"(?:最后|最终|早晚|迟早|终究|总归|反正|总之)(?:都|也|总)?(?:会|能)(?:解决|处理好|好起来|办好|有办法)"
          r"|总(?:会|能)有人(?:来|去|管|修|处理)",
       ctx=DEADLINE, name="早晚会解决"),
    _r(8, r"办法(?:总|总归|肯定|一定|终归)(?:会|能)?(?:有|想得出|找得到)的?|车到山前必有路|船到桥头自然直"
          r"|办法总比困难多|天无绝人之路|没有解决不了的(?:问题|事)|没有过不去的坎|会好起来的",
       name="车到山前"),
    _r(8, r"(?:一定|肯定|绝对|保证|准)(?:会|能)?(?:给您|帮您|给你|帮你|替您)?"
          r"(?:有办法|想到办法|找到办法|想出办法|解决好|解决|办好|办成|处理好|搞定|搞好|弄好|修好)(?:的)?"
          r"|(?:会|能)有办法的|包在我身上",
       pre=r"(?:不|没|如果|要是|万一|争取|(?:没|没有|不敢|不能|不会|别)(?:说|讲|答应|保证|承诺))$",
       ctx=DEADLINE + r"|能做的是|能做到的|做不到的",
       window=1,
       name="一定能解决"),
    # 9 肯定不行：关门，不给理由也不给出路
    _r(9, r"(?:肯定|绝对|根本|压根|坚决|完全|当然|一律)(?:是)?"
          r"(?:不行|不可以|不允许|不准|不同意|办不到|做不到|没戏|没可能|不批|没门|不给办|不能办|不能装|不能改)"
          r"|(?:肯定|绝对|根本|坚决|是)不会(?:同意|批准|答应|允许|通过|给您办|给你办)",
       pre=r"如果|要是|万一|假如", post=r"吗|的话", name="肯定不行"),
    _r(9, r"谁(?:来|说|找)?(?:都|也)不(?:行|好使|管用)|不(能|可以|允许|行)就是不\1"
          r"|没(?:什么|啥)(?:好|可)(?:说|谈|商量)的|不行就是不行|规定就是规定|没得商量|没得谈|没什么好谈|没的谈"
          r"|(?:别|不要)再?(?:提|问)了|没有商量的余地|没什么好商量|想都别想|别想了|门都没有|没门儿?|免谈|死心吧"
          r"|说不行就不行|不用想了",
       name="没得商量"),
    _r(9, r"不可能" + REQUEST, pre=r"(?:不是|并非)$", ctx=FACT_PROMISE, name="不可能给您办"),
    _r(9, r"^(?:这|那|这个|那个|这样|那样|这事)?(?:我们)?(?:可|是|也)?"
          r"(?:不行|不可以|不允许|不能|办不了|办不到|做不到|没法办|弄不了)(?:的|啊|呀|吧|哦)?(?:[,，。!！;；]|$)"
          r"|(?:我们|物业|公司)(?:是|这边)?(?:肯定|绝对|坚决)?不(?:同意|批准|允许|答应)",
       ctx=r"因为|由于|按照|根据|依据|会影响|所以|不过|但是|(?<!不)可以|办法|方案|建议|替代|如果|要是|换个|另外|帮您",
       window=1,
       name="不行。"),
)


def rules_for(phrases: Iterable[int]) -> tuple[Rule, ...]:
    """The rules of the given phrases (the phrases of a Reference), in order."""
    wanted = set(phrases)
    return tuple(r for r in RULES if r.phrase in wanted)


def guarded(rule: Rule, sents: list[Unit], k: int, m: re.Match) -> bool:
    """A guard of ``rule`` fires for match ``m`` in sentence ``k``: not a forbidden use."""
    s = sents[k].text
    if rule.pre is not None and rule.pre.search(clause_before(s, m.start())):
        return True
    if rule.post is not None and rule.post.match(s, m.end()):
        return True
    if rule.ctx is not None:
        ctx = clause_of(s, m.start(), m.end()) if rule.window < 0 else window(sents, k, rule.window)
        if rule.ctx.search(ctx):
            return True
    return False


def phrase_guarded(n: int, sents: list[Unit], k: int) -> bool:
    """Context guards of phrase n applied to a whole sentence (for the semantic layer)."""
    for rule in RULES:
        if rule.phrase == n and rule.ctx is not None and rule.window >= 0:
            if rule.ctx.search(window(sents, k, rule.window)):
                return True
    return False


def pattern_spans(norm: str, sents: list[Unit], rules: Iterable[Rule] = RULES) -> list[tuple]:
    """(phrase, nstart, nend, "pattern", 1.0) for every unguarded match, in normalised offsets."""
    spans: list[tuple] = []
    for k, sent in enumerate(sents):
        for rule in rules:
            for m in rule.pattern.finditer(sent.text):
                if m.end() == m.start() or guarded(rule, sents, k, m):
                    continue
                a, b = trim(norm, sent.start + m.start(), sent.start + m.end())
                if a < b:
                    spans.append((rule.phrase, a, b, "pattern", 1.0))
    return spans
