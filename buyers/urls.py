from django.urls import path

from buyers import views

app_name = "buyers"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("register/", views.register, name="register"),
    path("register/submit/", views.register_submit, name="register_submit"),
    path("register/<slug:step>/", views.register_step, name="register_step"),
    path("profile/", views.profile, name="profile"),
    path("profile/edit/", views.profile_edit, name="profile_edit"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/add/", views.site_add, name="site_add"),
    path("sites/import/", views.site_import, name="site_import"),
    path("sites/template.csv", views.site_template_csv, name="site_template_csv"),
    path("sites/<int:pk>/edit/", views.site_edit, name="site_edit"),
    path("sites/<int:pk>/archive/", views.site_archive, name="site_archive"),
    path("sites/<int:pk>/restore/", views.site_restore, name="site_restore"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/add/", views.customer_add, name="customer_add"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/join/", views.group_join, name="group_join"),
    path("groups/invitations/<int:pk>/accept/", views.group_invitation_accept, name="group_invitation_accept"),
    path("groups/invitations/<int:pk>/decline/", views.group_invitation_decline, name="group_invitation_decline"),
    path("groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("groups/<int:pk>/code/", views.group_rotate_code, name="group_rotate_code"),
    path("groups/<int:pk>/invite/", views.group_invite, name="group_invite"),
    path(
        "groups/<int:pk>/invitations/<int:invitation_pk>/cancel/",
        views.group_invitation_cancel,
        name="group_invitation_cancel",
    ),
    path("groups/<int:pk>/leave/", views.group_leave, name="group_leave"),
    path("groups/<int:pk>/members/<int:member_pk>/approve/", views.group_member_approve, name="group_member_approve"),
    path("groups/<int:pk>/members/<int:member_pk>/decline/", views.group_member_decline, name="group_member_decline"),
    path("groups/<int:pk>/members/<int:member_pk>/remove/", views.group_member_remove, name="group_member_remove"),
]
