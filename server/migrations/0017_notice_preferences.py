from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from server.notices.models import NoticeStatus, RobotKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0016_comments_attachments')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ChatRobot',
            name='kind',
            field=fields.CharEnumField(description='DINGTALK: DINGTALK\nFEISHU: FEISHU\nWECOM: WECOM\nGENERIC: GENERIC\nLOCAL: LOCAL', enum_type=RobotKind, max_length=16),
        ),
        ops.AlterField(
            model_name='Notice',
            name='status',
            field=fields.CharEnumField(default=NoticeStatus.PENDING, description='PENDING: PENDING\nSENDING: SENDING\nSENT: SENT\nFAILED: FAILED\nSKIPPED: SKIPPED\nHELD: HELD', enum_type=NoticeStatus, max_length=16),
        ),
        ops.AddField(
            model_name='User',
            name='chat_off',
            field=fields.JSONField(null=True, default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='User',
            name='digest_mode',
            field=fields.BooleanField(null=True, default=False),
        ),
        ops.AddField(
            model_name='User',
            name='email_off',
            field=fields.JSONField(null=True, default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='User',
            name='quiet_from',
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name='User',
            name='quiet_until',
            field=fields.SmallIntField(null=True),
        ),
    ]
