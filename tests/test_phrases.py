"""禁语检查 (search/replies/): every phrase literal, in Traditional characters, as a variant
and reordered; good practice that shares words; offsets into the original text; evaluation
on the development set and on our own examples (pattern layer, and the real encoder in the
``model`` tests)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from search.errors import CaselibError
from search.library.reference import load_reference
from search.replies.checker import PhraseHit, ReplyChecker, check_reply
from search.replies.evaluate import evaluate_replies, load_replies
from search.replies.normalise import normalize_with_map
from tests.fakes import HashingEncoder

# The development replies live outside the repository, in ../shared/eval/ beside it.
DEV_SET = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev_replies.yaml"
REF = load_reference()
PATTERNS = ReplyChecker(REF)  # no encoder: the pattern layer alone


def phrases_of(text: str, checker: ReplyChecker = PATTERNS) -> list[int]:
    return sorted({h.phrase for h in checker.check(text)})


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def s2t(text: str) -> str:
    return _s2t().convert(text)


# Our own replies, written for this module (none is from the development set); [] = clean
# (good practice, often sharing words). Batches 1–6 were each written in one go and scored
# before any rule was added for them. First-pass overall precision/recall, pattern layer →
# with the real encoder: 1: 1.00/0.87 → 1.00/0.97; 2: 1.00/0.92 → 0.90/0.97;
# 3: 1.00/0.88 → 0.97/0.91; 4: 1.00/0.71 → 0.96/0.89; 5: 0.93/0.52 → 0.91/0.70;
# 6: 0.96/0.81 → 0.90/0.87. Expect numbers like these on new paraphrases, not the 1.0 below.
OWN_EXAMPLES: list[tuple[str, list[int]]] = [
    # --- batch 1
    ('您说的楼道漏水？不可能吧，我们早上刚巡查过。', [1]),
    ('那种事我们这个小区根本不会发生。', [1]),
    ('您是不是看花眼了，那是我们的工作人员。', [1]),
    ('我們保安絕對不會收業主的錢。', [1]),
    ('我之前从来没跟您讲过免费维修。', [2]),
    ('你别乱讲，这种话我们根本没说过。', [2]),
    ('那句話不是我講的。', [2]),
    ('外墙裂缝那是开发商负责的，你自己找他们去。', [3]),
    ('您有问题直接找开发商好了。', [3]),
    ('房子是開發商蓋的，您找開發商吧。', [3]),
    ('开发商的问题跟我们没关系。', [3]),
    ('多少钱办多少事，您的物业费就值这个服务。', [4]),
    ('您交的物业费那么少，还想让我们天天打扫？', [4]),
    ('一分錢，一份事，這是我們的原則。', [4]),
    ('这种小事都搞不定啊？', [5]),
    ('门禁卡刷一下就行，谁都会。', [5]),
    ('這個太簡單了，您自己看說明書。', [5]),
    ('等我们有空了再联系您。', [6]),
    ('这个得研究研究，过段时间再答复您。', [6]),
    ('改日再給您回覆。', [6]),
    ('这个我真不清楚，你问别的部门吧。', [7]),
    ('我也不晓得怎么回事。', [7]),
    ('這事我不知道。', [7]),
    ('您别急，办法总会有的。', [8]),
    ('放心，一定能解决的。', [8]),
    ('船到桥头自然直，先等等看吧。', [8]),
    ('这个肯定不允许。', [9]),
    ('不行，没门儿。', [9]),
    ('封阳台？绝对不可以。', [9]),
    ('不清楚，改天再说吧。', [7, 6]),
    ('这个问题我们已经和开发商约好，明天上午九点一起上门查看。', []),
    ('您提到的情况我们很重视，马上调取监控核实。', []),
    ('上次可能是我没讲清楚，我重新跟您说一遍。', []),
    ('收费的依据和支出明细都在公告栏，您随时可以看。', []),
    ('步骤其实不复杂，我陪您在门口试一次。', []),
    ('我现在就打给工程部，十五分钟内给您回电话。', []),
    ('这个情况我得先问一下主管，您稍等，我五分钟后回您。', []),
    ('车位暂时没有空的，我帮您登记，周三前告诉您排在第几位。', []),
    ('按规定阳台不能封闭，但可以装隐形防护网，我把申请表发给您。', []),
    ('我们一定尽快处理，今天晚上八点前给您回复。', []),
    ('您说得对，这确实是我们没做好。', []),
    ('如果您还有不明白的，随时打这个电话找我。', []),
    ('开发商那边我们每周催一次，有进展我当天告诉您。', []),
    ('这种事不能再发生了，我们马上整改。', []),
    ('不知道您现在方便接电话吗？', []),
    # --- batch 2
    ('王阿姨您好，您说的半夜有人敲门，这不可能，我们门岗一直有人。', [1]),
    ('监控我看过了，没有您说的这回事。', [1]),
    ('我们的管家绝对不会说这种话的。', [1]),
    ('您确定吗？我们这儿从来没有这样的事。', [1]),
    ('我可从来没答应过给您留车位。', [2]),
    ('上次我说的不是这个意思，我也没讲过要免费。', [2]),
    ('我們沒有承諾過這件事。', [2]),
    ('质保期的问题您得联系开发公司。', [3]),
    ('墙体开裂属于建设单位的责任，您去找他们吧。', [3]),
    ('这个跟物业无关，是开发商的事。', [3]),
    ('您去問開發商吧。', [3]),
    ('物业费就收这么点，服务只能这样。', [4]),
    ('你交多少钱，我们就办多少事。', [4]),
    ('想要更好的服务，得多交物业费。', [4]),
    ('这么容易的事还要问？', [5]),
    ('这个连小学生都会。', [5]),
    ('这有啥难的。', [5]),
    ('很简单的，您自己按一下就行。', [5]),
    ('回头有消息了再通知您。', [6]),
    ('过几天我们会给您答复的。', [6]),
    ('等通知吧，到时候会有人联系您。', [6]),
    ('這事以後再說。', [6]),
    ('这个不归我管，我也不了解。', [7]),
    ('我不太懂这些。', [7]),
    ('我哪知道水什么时候来。', [7]),
    ('这个我说不上来。', [7]),
    ('没关系，总会有办法解决的。', [8]),
    ('别担心，肯定能办成。', [8]),
    ('天无绝人之路嘛，您放宽心。', [8]),
    ('这种要求肯定不行的。', [9]),
    ('不可以，规定就是规定。', [9]),
    ('养鸽子？免谈。', [9]),
    ('这个你就别想了。', [9]),
    ('不可能，我们从没说过会退费。', [1, 2]),
    ('这事我不清楚，你找开发商吧，过几天再说。', [7, 3, 6]),
    ('您好，您反映的电梯异响我们已经通知维保单位，下午两点前到现场检查，检查完我给您打电话。', []),
    ('这种情况以前没遇到过，我们会认真查原因，明天中午前告诉您。', []),
    ('我们不会说过的话不认账，您放心，我查一下当时的记录。', []),
    ('您的房屋还在保修期，我们来通知开发商派人维修，我负责跟进。', []),
    ('物业费的用途我们每季度都会公示，您想看哪一项我都可以打印给您。', []),
    ('智能门锁的用法有点复杂，我下午上门给您演示。', []),
    ('这件事我要跟领导确认一下，今天五点前给您答复。', []),
    ('关于停车费我不太清楚最新标准，我马上去财务问清楚再回复您。', []),
    ('我们现在能做的是先帮您把漏水止住，赔偿的事下周一前给您方案。', []),
    ('这样改确实不行，会影响楼下的排水，我们可以帮您换一个走管的位置。', []),
    ('您别着急，我这就派人过去。', []),
    ('您说的我都记下了，给您带来不便真的很抱歉。', []),
    ('请您放心，我们肯定会给您一个交代，今天下班前回电话。', []),
    ('如果您不方便，我们也可以晚上上门。', []),
    ('简单来说，就是先报修，再由师傅上门。', []),
    # --- batch 3
    ('不可能！我们电梯上个月刚年检过。', [1]),
    ('您说保洁把您家门口的鞋扔了？我们保洁不会干这种事。', [1]),
    ('这根本是不可能的事。', [1]),
    ('我没这么说过啊，您再想想。', [2]),
    ('当时我可没说一定能修好。', [2]),
    ('我记得我没有答应您什么。', [2]),
    ('这个你找开发商去，我们物业只负责日常管理。', [3]),
    ('开发商留下的问题，还是您自己跟开发商交涉吧。', [3]),
    ('那是地产公司的事，不归我们管。', [3]),
    ('一分钱一分事，您交的少我们也没办法。', [4]),
    ('收多少钱就提供多少服务，这很公平。', [4]),
    ('就这点物业费，您还指望我们二十四小时守着？', [4]),
    ('这个很容易嘛，一学就会。', [5]),
    ('连开门都不会吗？', [5]),
    ('这么简单的问题也来投诉。', [5]),
    ('好的好的，改天聯繫您。', [6]),
    ('我们商量商量再回复您。', [6]),
    ('有时间了我们会派人去看。', [6]),
    ('不知道，这不是我们部门的事。', [7]),
    ('具体的我也不太清楚，你去问问别人。', [7]),
    ('这个问题我不了解。', [7]),
    ('总有办法的，您先回去吧。', [8]),
    ('您放心好了，没有解决不了的问题。', [8]),
    ('我们肯定会处理好的，您等着就行。', [8]),
    ('加装电梯？不行，这个肯定不行。', [9]),
    ('办不了，您别问了。', [9]),
    ('坚决不同意。', [9]),
    ('不行就是不行，跟我说也没用。', [9]),
    ('这不可能是我们的问题，你去找开发商。', [1, 3]),
    ('这太简单了，总会有办法的。', [5, 8]),
    ('您好，收到您的反映，师傅二十分钟内到，到了会先给您打电话。', []),
    ('我们这边已经派单，维修完成后我会回访您。', []),
    ('不好意思，这个确实是我们的疏忽。', []),
    ('我们没有及时通知停水，是我们的错，以后会提前两天贴通知。', []),
    ('这个投诉我来负责，明天上午给您一个书面答复。', []),
    ('开发商的保修电话我也帮您问到了，同时我们会派人盯着进度。', []),
    ('这笔钱为什么收、用在哪里，我一项一项给您解释。', []),
    ('您提的建议很好，我们会在下周的例会上讨论，周五前给您回复。', []),
    ('这个设置有点绕，我一步步跟您说，您别着急。', []),
    ('我不知道这件事给您造成了这么大困扰，实在对不起。', []),
    ('您先别挂，我现在就查。', []),
    ('根据业主手册不能在公共区域堆放杂物，我们可以帮您找地方暂存。', []),
    ('说实话这个问题不简单，需要几个部门一起解决，我每天下午给您通报进度。', []),
    ('如果维修师傅今天到不了，我会在六点前打电话告诉您。', []),
    ('我们会想尽办法，今晚十点前给您一个可行的方案。', []),
    # --- batch 4
    ('这事儿不可能是真的，您别听别人瞎传。', [1]),
    ('您说的噪音我们测过了，根本不存在。', [1]),
    ('我们小区的水质一直合格，怎么会有异味？', [1]),
    ('那是您自己理解错了，我们从来没说过包修。', [2]),
    ('我們從沒答應過業主這個要求。', [2]),
    ('这话我可没讲过。', [2]),
    ('交房时的问题请您直接找开发商处理。', [3]),
    ('这是开发商遗留的问题，我们物业也没办法，您找他们吧。', [3]),
    ('建设单位那边的电话我发给您，您自己联系。', [3]),
    ('物业费才一块五一平，您还想要什么样的服务？', [4]),
    ('服务好不好，要看您交多少钱。', [4]),
    ('您给的钱就这么多，我们也只能做这么多。', [4]),
    ('就这点事您还专门跑一趟？一看就会的。', [5]),
    ('这种问题三岁小孩都知道。', [5]),
    ('这么简单您都弄不明白？', [5]),
    ('等我们忙完这阵再联系您。', [6]),
    ('这个得等领导回来再说。', [6]),
    ('有空我们会过去看看的。', [6]),
    ('水什么时候来我也说不准，你问自来水公司吧。', [7]),
    ('这个事我真的不清楚。', [7]),
    ('谁知道呢，可能是楼上漏的。', [7]),
    ('别急嘛，总能想出办法来的。', [8]),
    ('您放心，一定会有办法的。', [8]),
    ('没事的，这种事最后都会解决的。', [8]),
    ('不允许，这是规定。', [9]),
    ('这个我们肯定不会同意的。', [9]),
    ('在楼道放鞋柜？不行！', [9]),
    ('我們絕對不可能給您辦。', [9]),
    ('您好，我是客服小李，工号2031，您反映的门禁问题我今天下午三点前给您回电话。', []),
    ('这个情况确实少见，我们马上派人去查原因。', []),
    ('之前的说法可能有误会，我把合同条款拍给您看。', []),
    ('这属于开发商保修范围，我们今天就把维修单转过去，三天内给您安排上门。', []),
    ('您交的物业费主要用在保洁、秩序和设备维护上，我把上季度的公示表发给您。', []),
    ('这个新系统大家都在适应，我们周末在大堂办个教学。', []),
    ('您提的问题我记下了，明天上午十一点前电话回复您处理进度。', []),
    ('这个问题我需要核实一下，请您稍等两分钟。', []),
    ('我们先做能做的：今晚加派一名保安在地库巡逻，监控的事周四前给您结果。', []),
    ('按照消防规定楼道不能放东西，我们可以帮您在车库找个储物位置。', []),
    ('不行的话我们再约别的时间，您看周六上午可以吗？', []),
    ('您说的情况完全可能发生，我们马上调监控。', []),
    # --- batch 5
    ('先生您好，您说地库有人偷电瓶？这不太可能，我们有二十四小时监控。', [1]),
    ('我们这里不会出现您说的那种情况。', [1]),
    ('您肯定是弄错了，那天根本没停水。', [1]),
    ('不是我们说的，我们从来没有通知过要涨价。', [2]),
    ('我什么时候答应过您？', [2]),
    ('这话我们可没说过，您别冤枉人。', [2]),
    ('渗水是房屋质量问题，你们业主应该去找开发商。', [3]),
    ('这跟物业没关系，开发商负责保修。', [3]),
    ('找開發商去吧，我們管不了。', [3]),
    ('物业费一平米才一块钱，能有多好的服务？', [4]),
    ('说白了就是一分钱一分货。', [4]),
    ('您要是多交点钱，我们服务自然就好了。', [4]),
    ('这个我都说了三遍了，怎么还不会？', [5]),
    ('这种事情您自己就能弄，太容易了。', [5]),
    ('这还不简单吗？', [5]),
    ('我们回头看看再说。', [6]),
    ('什么时候修好不一定，您等我们电话吧。', [6]),
    ('等维修队有空了再联系您。', [6]),
    ('不好说，我不是负责这块的。', [7]),
    ('這個我真的不知道，別問我了。', [7]),
    ('我也搞不清楚是怎么回事。', [7]),
    ('没问题的，到时候总能想办法解决。', [8]),
    ('您先回去，这事我们一定给您办好。', [8]),
    ('放宽心，车到山前必有路嘛。', [8]),
    ('不可以，谁来都不行。', [9]),
    ('这个根本不可能批的。', [9]),
    ('绝对不行，您死了这条心吧。', [9]),
    ('王先生，很抱歉让您跑了两趟。您反映的噪音问题我们今晚十点安排人在您家测一次，明天中午前把结果告诉您。', []),
    ('您说的没错，这个确实是我们的问题，我现在就去现场。', []),
    ('这件事之前我们沟通得不够清楚，让您误会了，我再把方案跟您详细说一遍。', []),
    ('开发商那边我们已经发了函，这周五下午我陪您一起去和他们的工程师见面。', []),
    ('您对收费有疑问很正常，我把收支明细和合同条款都整理好了，您看看哪里不清楚我再解释。', []),
    ('第一次用是会有点不习惯，我们给您印了一张图示，贴在门口方便看。', []),
    ('我需要和工程部确认一下维修时间，十分钟后我回拨给您。', []),
    ('这个问题我确实不了解，我请熟悉的同事马上给您回电。', []),
    ('现在能做到的是先给您换一块临时挡板，彻底维修要等配件，周三前到货后当天装。', []),
    ('这个要求按规定做不了，不过我们可以帮您申请另一种方案，我把流程发给您。', []),
    ('谢谢您的理解，有任何问题随时打我的电话。', []),
    ('您先别着急，跟我说说具体是什么情况？', []),
    ('这件事我负责到底，每天下午五点前跟您说一次进展。', []),
    # --- batch 6
    ('不可能吧，我们昨天刚换的灯泡。', [1]),
    ('您反映的事情我们这边压根不存在，请不要乱说。', [1]),
    ('我們的師傅從來不會亂收費。', [1]),
    ('我绝对没跟您说过可以退费。', [2]),
    ('什么时候说过要给您换新的？我可不记得。', [2]),
    ('那不是我们承诺的，我们也没说过。', [2]),
    ('这个质量问题您只能找开发商了。', [3]),
    ('房屋保修期内的事，开发商负责，跟我们没关系。', [3]),
    ('您直接去开发商售楼处问吧。', [3]),
    ('钱交得少，服务当然差一点。', [4]),
    ('您就交那么点物业费，我们能做的就这些。', [4]),
    ('這是一分錢一份事的道理。', [4]),
    ('这么简单的操作，您还要我教？', [5]),
    ('连个密码都不会改吗？', [5]),
    ('这个超简单的，您随便按按就好。', [5]),
    ('过些天再给您打电话。', [6]),
    ('有了结果再告诉您。', [6]),
    ('今天太忙了，改天再聊。', [6]),
    ('我又不是管这个的，我怎么知道。', [7]),
    ('这个嘛，我也说不清。', [7]),
    ('不清楚，你打别的电话问问。', [7]),
    ('反正会解决的，您别操心了。', [8]),
    ('您别急，总会有人来修的。', [8]),
    ('这事您交给我们，肯定能搞定。', [8]),
    ('这个要求是不可能满足的，死心吧。', [9]),
    ('不能就是不能，没什么好说的。', [9]),
    ('坚决不行。', [9]),
    ('那是开发商的问题，我也不知道怎么办。', [3, 7]),
    ('您说的这个不可能，改天再说吧。', [1, 6]),
    ('您好，我是管家小周，您家的渗水我们拍照留存了，今天就报给开发商，明天上午十点我带开发商的工程师上门。', []),
    ('确实有业主反映过类似的情况，我们正在排查，今晚八点前给您通报。', []),
    ('可能是我们的师傅操作不当，我马上去核实，给您一个说法。', []),
    ('如果之前有人跟您这么说过，我们会按说过的办，我先去查一下记录。', []),
    ('您提的车位问题，现阶段我们做不到固定车位，但可以先帮您办临时停车证。', []),
    ('收费标准您可以在小区公告栏和物业App上查到，每一项都有依据。', []),
    ('这个功能不太好找，我截图给您标出来。', []),
    ('下周二之前我们会把整改方案发给您，到时候我也会打电话跟您确认。', []),
    ('这个情况我还不清楚，我现在就去问保安队长，五分钟后给您回话。', []),
    ('维修没问题的，师傅已经出发了，预计二十分钟到。', []),
    ('这种装修按规定是不允许的，原因是会影响承重，您看改成轻质隔墙行不行？', []),
    ('您的意思我明白了，我把您的诉求原原本本报给经理，今天下班前答复您。', []),
    ('我们没有及时处理是我们不对，今天就安排。', []),
    ('简单地说，这笔钱是用来换电梯钢丝绳的。', []),
    ('请问您方便的话，我们明天上午上门看看？', []),
    ('您不知道也正常，这个通知贴得不够显眼，是我们的问题。', []),
    # --- batch 7: hard paraphrases
    ('您说的那个情况，我们这儿压根没碰到过。', [1]),
    ('我们的监控显示一切正常，您说的事不存在。', [1]),
    ('瞎说，我们保安天天在岗。', [1]),
    ('那不是我的原话。', [2]),
    ('我记得很清楚，当时根本没提过这事。', [2]),
    ('房屋质量问题请您向开发商反映。', [3]),
    ('开发商才是责任方，您得找他们。', [3]),
    ('您那点钱只够这样的服务。', [4]),
    ('物业费就那么多，您还想要啥？', [4]),
    ('这种事还要打电话来问？', [5]),
    ('您看说明书就明白了，很容易的。', [5]),
    ('我们这边再看看，等有空回复您。', [6]),
    ('等领导批了再说吧。', [6]),
    ('这事我真说不上来。', [7]),
    ('我刚来的，什么都不懂。', [7]),
    ('您别担心，慢慢来总能解决。', [8]),
    ('放心吧，这事包在我身上。', [8]),
    ('没戏，别想了。', [9]),
    ('这个我们不同意，别再提了。', [9]),
    ('这个没得谈。', [9]),
    ('这事我做不了主，你找别人。', [7]),
    ('电梯的事我们已经报修，维保公司下午两点到。', []),
    ('您先别急，我把情况记下来，今天之内给您回复。', []),
    ('是我们工作没做到位，我马上处理。', []),
    ('我们会把您的意见反映给开发商，并跟进结果。', []),
    ('这个费用是按政府指导价收的，明细可以给您看。', []),
    ('我陪您下楼看一下门禁怎么用。', []),
    ('谢谢您的耐心，这周五前给您答复。', []),
    ('这个需要业委会同意，我帮您递交申请，下周一告诉您结果。', []),
    ('麻烦您留个电话，我们核实后联系您。', []),
    # --- batch 8: first sketches
    ('這不可能，我們的保安每小時都巡邏。', [1]),
    ('您肯定是听错了，楼上根本没人住。', [1]),
    ('我们小区从来没出过这种事。', [1]),
    ('这种情况不会发生的，您放心好了。', [1]),
    ('哪有这回事？我们的电梯每个月都检修。', [1]),
    ('不可能的，水管上周才换过。', [1]),
    ('您反映的情况我们马上调监控核实，保证这种事不会再发生。', []),
    ('这种事确实不应该发生，给您添麻烦了。', []),
    ('我们不可能不管您的事，请放心。', []),
    ('我從來沒說過這種話。', [2]),
    ('这话不是我说的，您去问别人。', [2, 7]),
    ('我可没答应过给您免费换。', [2]),
    ('我们当时没有承诺过车位的事。', [2]),
    ('谁答应你的？你找谁去。', [2]),
    ('可能是我上次没说清楚，给您带来误会，真抱歉。', []),
    ('您之前说过的情况我都记录下来了。', []),
    ('开发商那边你自己去问吧。', [3]),
    ('这个归开发商管，您直接打开发商电话。', [3]),
    ('房子漏水是开发商的事，我们物业管不了。', [3]),
    ('你可以去找開發商投訴。', [3]),
    ('这个问题属于保修范围，我们已经联系开发商，他们明天上门。', []),
    ('我们物业这边会向开发商反映，并督促他们尽快维修。', []),
    ('我帮您把情况转给开发商，每周告诉您一次进度。', []),
    ('您交那点物业费，还想要什么服务？', [4]),
    ('给多少钱干多少活，这是规矩。', [4]),
    ('一分錢一分貨嘛。', [4]),
    ('物业费这么便宜，服务就这样了。', [4]),
    ('您交的每一分钱我们都会公示用途。', []),
    ('我们不会多收您一分钱，收费明细在公告栏。', []),
    ('这么简单都不会用？', [5]),
    ('這有什麼難的，按一下就開了。', [5]),
    ('连这个都不会啊，小孩子都会。', [5]),
    ('这个操作很简单嘛，您自己弄。', [5]),
    ('这个锁刚开始用确实不太顺手，我陪您操作一遍。', []),
    ('这个问题没那么简单，我们要请专业人员来看。', []),
    ('我简单说一下处理流程。', []),
    ('过两天我们再跟您联系。', [6]),
    ('等有结果了再通知您吧。', [6]),
    ('您回去等通知吧。', [6]),
    ('回頭再給您打電話。', [6]),
    ('这事以后再说。', [6]),
    ('我明天上午十点前给您打电话说明进展。', []),
    ('有结果了我会第一时间通知您。', []),
    ('师傅下午三点到，到了我再给您打个电话确认。', []),
    ('这个我也不知道。', [7]),
    ('我不太清楚，你问保安吧。', [7]),
    ('不清楚，这不归我管。', [7]),
    ('這個我不太了解。', [7]),
    ('我不清楚具体情况，我马上帮您问一下工程部，二十分钟内回复您。', []),
    ('您有不清楚的地方随时问我。', []),
    ('不知道您明天上午方便吗？师傅可以上门。', []),
    ('我马上问一下同事。', []),
    ('别担心，总能解决的。', [8]),
    ('车到山前必有路，您别急。', [8]),
    ('放心吧，肯定有办法的。', [8]),
    ('總會有辦法的。', [8]),
    ('我先说清楚：固定车位现在做不到，能做的是帮您登记排队，周五前给您回话。', []),
    ('我们一起想办法，今天下班前给您一个方案。', []),
    ('绝对不行。', [9]),
    ('这个不可以，没得商量。', [9]),
    ('规定就是规定，不行就是不行。', [9]),
    ('想都别想。', [9]),
    ('肯定不行，您别问了。', [9]),
    ('按照规定外墙不能打孔，不过可以装在设备平台上，我带您去看看。', []),
    ('如果这个方案不行，我们再换一个。', []),
    ('行不行我得先问问工程部，半小时内回复您。', []),
    ('我也不清楚，你去问开发商。', [7, 3]),
    ('不可能漏水，我从来没说过要给您修。', [1, 2]),
    ('您好，非常抱歉让您久等了，维修师傅已经在路上。', []),
    ('我叫小王，工号1024，今天下午四点前给您回电话。', []),
]


# ---------------------------------------------------------------------------------------
# each phrase: literal, Traditional, variants, reordered


@pytest.mark.parametrize("p", REF.phrases, ids=lambda p: f"phrase{p.n}")
def test_literal_phrase(p):
    hits = PATTERNS.check(p.text)
    assert {h.phrase for h in hits} == {p.n}
    hit = next(h for h in hits if h.phrase == p.n)
    assert hit.why == p.harm and hit.suggestion == p.better


@pytest.mark.parametrize("p", REF.phrases, ids=lambda p: f"phrase{p.n}")
def test_traditional_characters(p):
    text = s2t(p.text)
    hits = PATTERNS.check(text)
    assert {h.phrase for h in hits} == {p.n}, text
    for h in hits:
        assert text[h.start : h.end] == h.matched


@pytest.mark.parametrize("p", REF.phrases, ids=lambda p: f"phrase{p.n}")
def test_every_variant_and_its_traditional_form(p):
    assert 4 <= len(p.variants) <= 10
    for v in p.variants:
        assert phrases_of(v) == [p.n], v
        assert phrases_of(s2t(v)) == [p.n], s2t(v)


REORDERED = {
    1: ["这种事情在我们这儿绝对不会发生。", "哪有这种事？"],
    2: ["那种话我可从来没说过。", "这句话不是我说的。"],
    3: ["你得自己去找开发商。", "开发商的事，您直接联系他们吧。"],
    4: ["交多少钱办多少事。", "就这点物业费，您还想要多好的服务？"],
    5: ["这都不会吗？", "简单得很，小孩都会。"],
    6: ["等通知吧，您先回去。", "回头再说吧。"],
    7: ["这个情况，我也不清楚。", "我哪知道这些。"],
    8: ["办法总会有的。", "总能解决的，别担心。"],
    9: ["不行，绝对不行。", "这个根本办不到。"],
}


@pytest.mark.parametrize("n", sorted(REORDERED))
def test_reordered_and_paraphrased(n):
    for text in REORDERED[n]:
        assert phrases_of(text) == [n], text


def test_issue_examples():
    assert phrases_of("你得自己去找开发商") == [3]
    assert phrases_of("交多少钱办多少事") == [4]
    assert phrases_of("我们帮您联系开发商并跟进") == []
    assert phrases_of("我马上问一下同事") == []


# ---------------------------------------------------------------------------------------
# good practice that merely shares words


GOOD_PRACTICE = [
    *(p.better for p in REF.phrases),
    "我们帮您联系开发商并跟进。",
    "我马上问一下同事。",
    "由我们来联系开发商，有进展我第一时间告诉您。",
    "可能是我上次没说清楚，真抱歉。",
    "您交的每一分钱用在哪里，明细都可以给您看。",
    "这个问题没那么简单，我们请专业师傅来看。",
    "我简单说一下报修流程。",
    "有结果了我第一时间通知您。",
    "我不清楚具体情况，我马上去查，十分钟后回复您。",
    "您有不清楚的地方随时问我。",
    "不知道您明天上午方便吗？",
    "我们一起想办法，今天下班前给您方案。",
    "如果这个方案不行，我们再换一个。",
    "按规定外墙不能打孔，不过可以装在设备平台上。",
    "我们保证这种事不会再发生。",
    "我们不可能不管您的事。",
]


@pytest.mark.parametrize("text", GOOD_PRACTICE)
def test_good_practice_is_not_flagged(text):
    assert PATTERNS.check(text) == []


# ---------------------------------------------------------------------------------------
# offsets and output shape


def test_offsets_point_into_the_original_text():
    text = "您好！😀 这种 问题 屬於開發商的事，你去找開發商解決。\n\n改天我們再和您聯繫，ＯＫ？　肯定不行！"
    hits = check_reply(text)
    assert [h.phrase for h in hits] == [3, 3, 6, 9]
    for h in hits:
        assert text[h.start : h.end] == h.matched
    assert hits[0].matched == "屬於開發商的事"
    assert hits[1].matched == "去找開發商"
    assert hits[2].matched == "改天我們再和您聯繫"
    assert hits[3].matched == "肯定不行"
    assert hits[3].end == len(text) - 1


def test_span_across_spaces_keeps_the_original_characters():
    text = "我 不大  清楚"
    (hit,) = check_reply(text)
    assert (hit.phrase, hit.start, hit.end, hit.matched) == (7, 2, 8, "不大  清楚")


def test_line_break_ends_a_sentence():
    norm, index = normalize_with_map("好的\r\n\n我不清楚")
    assert norm == "好的\n我不清楚" and index == [0, 1, 2, 5, 6, 7, 8]


def test_hit_serialises_through_the_api_schema():
    from search.server.schemas import reply_response

    (hit,) = check_reply("肯定不行。")
    assert (hit.via, hit.score) == ("pattern", 1.0)
    assert reply_response([hit]).model_dump() == {"hits": [{
        "phrase": 9, "start": 0, "end": 4, "matched": "肯定不行",
        "why": REF.phrase(9).harm, "suggestion": REF.phrase(9).better,
    }]}


def test_empty_and_clean_text():
    assert check_reply("") == [] and check_reply("   \n") == []
    assert check_reply("您好，请问有什么可以帮您？") == []


def test_odd_input_does_not_break_offsets():
    for text in ["\ud800肯定不行", "ｍ\u0301\u200b我不大清楚", "肯定不行" * 1000, "😀" * 10 + "总会有办法的"]:
        hits = check_reply(text)
        assert hits
        for h in hits:
            assert text[h.start : h.end] == h.matched


def test_several_phrases_in_one_reply():
    text = "我也不清楚，你去问开发商。总会有办法的。"
    assert phrases_of(text) == [3, 7, 8]


# ---------------------------------------------------------------------------------------
# semantic layer mechanics (fast, with the hashing stand-in encoder)


class CountingEncoder(HashingEncoder):
    def __init__(self):
        super().__init__(dim=512)
        self.calls = 0

    def encode_queries(self, texts):
        self.calls += 1
        return super().encode_queries(texts)


def _reference_with_variant(n: int, variant: str):
    phrases = tuple(p.model_copy(update={"variants": (*p.variants, variant)}) if p.n == n else p for p in REF.phrases)
    return REF.model_copy(update={"phrases": phrases})


def test_semantic_layer_flags_a_unit_close_to_a_variant_and_embeds_variants_once():
    ref = _reference_with_variant(4, "这笔停车费的服务就值这个数")
    enc = CountingEncoder()
    checker = ReplyChecker(ref, encoder=enc, threshold=0.6, margin=0.05)
    assert enc.calls == 2  # variants and good-practice anchors, once
    text = "这笔停车费的服务就值这个数啦"
    assert ReplyChecker(ref).check(text) == []  # no pattern for it
    hits = checker.check(text)
    assert [(h.phrase, h.via) for h in hits] == [(4, "semantic")]
    assert text[hits[0].start : hits[0].end] == hits[0].matched
    assert enc.calls == 3  # one batch per check
    # a good-practice guard of phrase 4 (明细) vetoes the semantic hit
    assert checker.check("这笔停车费的服务就值这个数，明细都公示了") == []


def test_semantic_layer_needs_a_cue_word_of_the_phrase():
    ref = _reference_with_variant(3, "那栋楼的事找居委会")  # no developer named: no phrase-3 cue
    checker = ReplyChecker(ref, encoder=HashingEncoder(512), threshold=0.6, margin=0.05)
    assert checker.check("那栋楼的事找居委会吧") == []


def test_semantic_layer_is_capped_for_long_pastes():
    enc = CountingEncoder()
    checker = ReplyChecker(REF, encoder=enc, max_units=5)
    seen = []
    enc.encode_queries = lambda texts: (seen.append(len(texts)), HashingEncoder.encode_queries(enc, texts))[1]
    checker.check("您好，请稍等。" * 50)
    assert seen == [5]


def test_check_reply_accepts_an_encoder():
    ref = _reference_with_variant(4, "这笔停车费的服务就值这个数")
    text = "这笔停车费的服务就值这个数啦"
    assert check_reply(text, reference=ref) == []  # no pattern for it
    hits = check_reply(text, reference=ref, encoder=HashingEncoder(512))  # default threshold and margin
    assert [(h.phrase, h.via, h.matched) for h in hits] == [(4, "semantic", text)]


# ---------------------------------------------------------------------------------------
# evaluation


def test_evaluate_replies_micro_average():
    items = [{"text": "a", "phrases": [1]}, {"text": "b", "phrases": []}, {"text": "c", "phrases": [2, 3]}]
    fake = {"a": [1], "b": [4], "c": [2]}

    def checker(text):
        return [PhraseHit(n, 0, 1, text[:1], "", "") for n in fake[text]]

    r = evaluate_replies(items, checker)
    assert (r.overall.tp, r.overall.fp, r.overall.fn) == (2, 1, 1)
    assert r.overall.precision == pytest.approx(2 / 3) and r.overall.recall == pytest.approx(2 / 3)
    assert r.per_phrase[1].precision == 1.0 and r.per_phrase[3].recall == 0.0
    assert r.per_phrase[4].precision == 0.0 and r.per_phrase[9].precision == 1.0  # nothing flagged, nothing missed
    assert len(r.errors) == 2 and r.n_texts == 3
    text = r.format()
    assert "禁语1" in text and "总计" in text and "判错的回复" in text
    assert r.as_dict()["overall"]["tp"] == 2


@pytest.fixture(scope="module")
def dev_set() -> Path:
    if not DEV_SET.is_file():
        pytest.skip(f"no development replies at {DEV_SET} (they live in ../shared/eval/ beside the repository)")
    return DEV_SET


def test_load_replies_reads_the_dev_set(dev_set):
    raw = yaml.safe_load(dev_set.read_text(encoding="utf-8"))
    items = load_replies(dev_set)
    assert [x["text"] for x in items] == [r["text"] for r in raw]
    assert [x["phrases"] for x in items] == [sorted(set(r["phrases"] or [])) for r in raw]
    assert any(not x["phrases"] for x in items)  # clean replies too
    assert {n for x in items for n in x["phrases"]} == set(REF.phrase_numbers)  # every phrase at least once


@pytest.mark.parametrize(
    "content, message",
    [
        ("text: [", "YAML 格式错误"),
        ("a: 1", "格式不对"),
        ("- text: 你好\n", "缺少 text 或 phrases"),
        (f"- {{text: 你好, phrases: [{len(REF.phrases) + 1}]}}", f"1–{len(REF.phrases)} 的禁语编号"),
        ("- {text: 你好, phrases: 3}", f"1–{len(REF.phrases)} 的禁语编号"),
        ("- {text: '', phrases: []}", "非空文字"),
        ("- {text: 你好, phrases: [], lable: x}", "未知字段"),
    ],
)
def test_load_replies_rejects_malformed_files_in_chinese(tmp_path, content, message):
    f = tmp_path / "bad.yaml"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(CaselibError, match=message):
        load_replies(f)


def test_load_replies_missing_file(tmp_path):
    with pytest.raises(CaselibError, match="无法读取"):
        load_replies(tmp_path / "nope.yaml")


def _own_items():
    return [{"text": t, "phrases": p} for t, p in OWN_EXAMPLES]


def test_dev_set_pattern_layer(dev_set):
    r = evaluate_replies(load_replies(dev_set), PATTERNS)
    assert r.overall.precision >= 0.9 and r.overall.recall >= 0.9, r.format()


def test_own_examples_pattern_layer():
    assert len(OWN_EXAMPLES) >= 40
    assert sum(1 for _, p in OWN_EXAMPLES if not p) >= 15  # tricky negatives
    r = evaluate_replies(_own_items(), PATTERNS)
    assert r.overall.precision >= 0.95 and r.overall.recall >= 0.95, r.format()


@pytest.fixture(scope="module")
def real_checker(real_encoder) -> ReplyChecker:
    return ReplyChecker(REF, encoder=real_encoder)


@pytest.mark.model
def test_real_encoder_on_dev_set(real_checker, dev_set):
    dev = evaluate_replies(load_replies(dev_set), real_checker)
    assert dev.overall.precision >= 0.9 and dev.overall.recall >= 0.9, dev.format()


@pytest.mark.model
def test_real_encoder_on_own_examples(real_checker):
    checker = real_checker
    own = evaluate_replies(_own_items(), checker)
    assert own.overall.precision >= 0.9 and own.overall.recall >= 0.9, own.format()
    # the semantic layer must not flag the good-practice replies either
    for text in GOOD_PRACTICE:
        assert checker.check(text) == [], text
    # nor raise on odd input
    assert checker.check("") == [] and checker.check("😀😀😀") == []
